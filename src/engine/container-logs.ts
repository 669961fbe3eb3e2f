// `logs`: a container's output as its monitor kept it (Docker's json-file
// log), as an async iterable of entries. While following, it goes on until
// the container stops; a reader that stops iterating stops the reading.
import { existsSync } from 'node:fs';
import { readLog, type LogEntry } from '../runtime/json-log.js';
import { containerPaths, type ContainerInfo } from './container-info.js';
import type { Engine } from './engine.js';

export type { LogEntry };
export { formatTimestamp } from '../runtime/json-log.js';

export interface ContainerLogsOptions {
  /** Keep reading what is appended until the container stops. */
  follow?: boolean;
  /** Only the last n lines of the log as it is now. */
  tail?: number;
  /** Only entries at or after this time. */
  since?: Date;
  /** Only entries at or before this time. */
  until?: Date;
}

/** A container's log entries (by name or ID, or as looked up already); nothing if it has never written one. */
export async function* containerLogs(engine: Engine, container: string | ContainerInfo, opts: ContainerLogsOptions = {}): AsyncGenerator<LogEntry> {
  const info = typeof container === 'string' ? await engine.container(container) : container;
  const log = containerPaths(info.dir, info.id).log;
  if (!existsSync(log)) return;
  let running = info.state.Running;
  // Polled at most every 100 ms while following: is the container still up?
  let lastCheck = 0;
  const stillRunning = () => {
    if (Date.now() - lastCheck > 100) {
      lastCheck = Date.now();
      void engine.container(info.id).then((c) => { running = c.state.Running || c.state.Restarting; }, () => { running = false; });
    }
    return running;
  };
  yield* readLog(log, {
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    ...(opts.since ? { since: opts.since } : {}),
    ...(opts.until ? { until: opts.until } : {}),
    follow: opts.follow ?? false, stillRunning,
  });
}
