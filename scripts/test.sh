#!/usr/bin/env bash
# Type check, lint, then every test on Node's own runner. Integration tests run
# real containers and need root.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
npx eslint .
# The CLI the tests run (test/support.ts): the bundle, made once here so that
# test files never rebuild it at the same time.
node scripts/bundle.mjs
shopt -s nullglob
concurrency=${BERTH_TEST_CONCURRENCY:-1}
# Files that run side by side each check only their own leftovers.
[ "$concurrency" -gt 1 ] && export BERTH_TEST_SHARED_HOST=1
status=0
node --import tsx --test --test-concurrency="$concurrency" --test-timeout=900000 \
  test/unit/*.test.ts test/integration/*.test.ts || status=$?
# Each file checks what it left itself; this is the whole run's account: no
# monitor, container cgroup or test mount may outlive the suite.
left=$(node --import tsx test/leftovers-check.ts) || { printf '%s\n' "$left"; exit 1; }
exit "$status"
