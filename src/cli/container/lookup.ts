// Finding the containers a command names, with Docker's errors: `docker top`,
// `stats`, `ns` and `cgroups` print "Error response from daemon: …" and end
// with status 1 for a container that does not exist or is not running.
import type { Engine, ContainerInfo } from '../../engine/index.js';
import { BerthError, conflict } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';
import { sayOnStderr } from '../say.js';

/** Say a BerthError as Docker's CLI relays a daemon's error. */
export function sayAsDocker(err: BerthError): void {
  sayOnStderr('Error response from daemon: ', err.message);
}

/** Say a BerthError as Docker's CLI relays a daemon's error, and end with status 1; rethrow anything else. */
export function failAsDocker(err: unknown): never {
  if (!(err instanceof BerthError)) throw err;
  sayAsDocker(err);
  throw new ExitStatus(1);
}

/** Run a command's work as Docker's CLI runs a daemon call: the daemon's errors relayed, status 1. */
export async function relayAsDocker<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    failAsDocker(err);
  }
}

export function isRunning(c: ContainerInfo): boolean {
  return c.state.Running && c.state.Pid > 0;
}

/** The named containers, or every running one (every one with `all`) when none is named. */
export async function containersNamed(engine: Engine, names: readonly string[], opts: { all?: boolean; running?: boolean } = {}): Promise<ContainerInfo[]> {
  try {
    if (names.length === 0) {
      const list = await engine.listContainers();
      return opts.all ? list : list.filter(isRunning);
    }
    const found: ContainerInfo[] = [];
    for (const name of names) {
      const c = await engine.container(name);
      if (opts.running && !isRunning(c)) throw conflict('ContainerNotRunning', `container ${c.id} is not running`);
      found.push(c);
    }
    return found;
  } catch (err) {
    failAsDocker(err);
  }
}
