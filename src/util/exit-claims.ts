// Who handles a container's exit. Each start of a container has a run token,
// and its monitor runs the exit hook with it once the process ends. An
// attached `run --rm` sees the end too, and handles it itself (settles the
// record, removes the container) without waiting for a second Node process
// to start. Whichever comes first claims the token by creating a file named
// after it under the run root; the other, seeing the file, has nothing to
// do. The hook reads it before it loads the engine or opens the store
// (src/cli/hook.ts), so a hook that comes second costs only Node's start.
//
// The hook is the last to come for its token, so it removes the claim. A
// claim whose hook never came (its monitor was killed) is removed with the
// next start of the container, or with the run root.
//
// This module is imported by the hook's entry before anything else: it uses
// node: modules only.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const CLAIMS_DIR = 'exits';

function claimPath(runRoot: string, id: string, token: string): string {
  return join(runRoot, CLAIMS_DIR, `${id}.${token}`);
}

/** Claim the handling of this run's exit; false when another process has. */
export function claimExit(runRoot: string, id: string, token: string): boolean {
  mkdirSync(join(runRoot, CLAIMS_DIR), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(claimPath(runRoot, id, token), 'wx', 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export function exitClaimed(runRoot: string, id: string, token: string): boolean {
  return existsSync(claimPath(runRoot, id, token));
}

/** The hook is done with its token: the claim goes. */
export function forgetExitClaim(runRoot: string, id: string, token: string): void {
  rmSync(claimPath(runRoot, id, token), { force: true });
}

/** Claims of a container's earlier runs (their hooks never came). */
export function forgetExitClaims(runRoot: string, id: string): void {
  let names: string[];
  try {
    names = readdirSync(join(runRoot, CLAIMS_DIR));
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(`${id}.`)) rmSync(join(runRoot, CLAIMS_DIR, name), { force: true });
}
