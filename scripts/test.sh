#!/usr/bin/env bash
# Type check, lint, then every test on Node's own runner. Integration tests run
# real containers and need root.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
npx eslint .
shopt -s nullglob
exec node --import tsx --test --test-concurrency=1 --test-timeout=900000 test/unit/*.test.ts test/integration/*.test.ts
