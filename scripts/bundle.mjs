// Bundles the CLI into one ES module, dist/bundle/cli/main.js, which bin/berth
// runs instead of the ~300 files tsc writes (berth's and its dependencies'),
// and the exit hook's entry (src/cli/hook.ts) into a small one beside it,
// which loads main.js only when the hook has work to do.
// Node 20's ES module loader spends most of a command's start-up resolving,
// reading and compiling each file apart: one file starts about 180 ms
// sooner (bench/run.ts, "berth, one file"). Run after tsc (npm run build and
// scripts/setup.sh do); bin/berth uses the bundle only while it is newer
// than tsc's output. A failed bundle is removed, never left stale.
//
// The bundle sits at <dir>/cli/main.js so that the paths berth finds from its
// own module still hold: native/berth-helper up the tree, and the monitor's
// exit hook, which runs ../cli/main.js next to the engine's module.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(project, 'dist', 'bundle', 'cli', 'main.js');
rmSync(dirname(dirname(outfile)), { recursive: true, force: true });
try {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(project, 'src', 'cli', 'main.ts'), join(project, 'src', 'cli', 'hook.ts')],
    outdir: dirname(outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // A native addon: loaded from node_modules as it is.
    external: ['better-sqlite3'],
    // Bundled CommonJS dependencies still call require().
    banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
    sourcemap: true,
    logLevel: 'error',
  });
} catch (err) {
  rmSync(dirname(dirname(outfile)), { recursive: true, force: true });
  process.stderr.write(`bundle: not made, bin/berth runs tsc's modules (${err instanceof Error ? err.message.split('\n')[0] : String(err)})\n`);
}
