// The exit hook's entry: what a container's monitor runs when the process
// ends (`<node> hook.js --root R --run-root RR internal exited <id> <token>`).
// Most often the exit is handled already — an attached `run --rm` did it
// itself — and the hook has nothing to do; it finds that out here, from a
// file (src/util/exit-claims.ts), before loading the CLI and the engine and
// before opening the store. Otherwise it runs the CLI's `internal exited`
// with the same arguments. Bundled apart from the CLI (scripts/bundle.mjs).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DB_FILE } from '../util/db-file.js';
import { exitClaimed, forgetExitClaim } from '../util/exit-claims.js';

/** The hook's own arguments, when argv is exactly the exit hook's command line. */
function hookArgs(argv: string[]): { root: string; runRoot: string; id: string; token: string } | undefined {
  const [rootFlag, root, runRootFlag, runRoot, internal, exited, id, token, ...rest] = argv;
  if (rootFlag !== '--root' || runRootFlag !== '--run-root' || internal !== 'internal' || exited !== 'exited' || rest.length > 0) return undefined;
  if (!root || !runRoot || !id || !token) return undefined;
  return { root, runRoot, id, token };
}

const args = hookArgs(process.argv.slice(2));
// A hook that comes after its root was removed (a test's temporary root) has
// nothing to do; one whose run another process handled neither.
const nothingToDo = args !== undefined && (!existsSync(join(args.root, DB_FILE)) || exitClaimed(args.runRoot, args.id, args.token));
if (args && nothingToDo) forgetExitClaim(args.runRoot, args.id, args.token);
// By URL, so that the bundler leaves the CLI out of the hook's own file.
else await import(new URL(import.meta.url.endsWith('.ts') ? 'main.ts' : 'main.js', import.meta.url).href);
