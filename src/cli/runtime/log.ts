// runc's --log and --log-format: an engine that drives berth as its runc
// (a containerd shim, conmon) reads the runtime's errors from that file, not
// from stderr (the shim's stderr is the container's). runc writes logrus
// lines: in json `{"level":"error","msg":…,"time":…}`, in text
// `time="…" level=error msg="…"`; containerd's shim takes the last error line
// as the reason a call failed.
import { appendFileSync } from 'node:fs';
import { invalid } from '../../util/errors.js';

export type LogFormat = 'text' | 'json';

let target: { path: string; format: LogFormat } | undefined;

export function parseLogFormat(value: string): LogFormat {
  if (value !== 'text' && value !== 'json') throw invalid('InvalidLogFormat', `--log-format "${value}": expected text or json`);
  return value;
}

/** Where this command's errors go besides stderr (set by `berth runtime --log`). */
export function setRuntimeLog(path: string | undefined, format: LogFormat): void {
  target = path ? { path, format } : undefined;
}

/** One error line in runc's format, if `--log` was given; a log that cannot be written does not hide the error itself. */
export function logRuntimeError(message: string, now = new Date()): void {
  if (!target) return;
  const time = now.toISOString();
  const line = target.format === 'json'
    ? JSON.stringify({ level: 'error', msg: message, time })
    : `time=${JSON.stringify(time)} level=error msg=${JSON.stringify(message)}`;
  try {
    appendFileSync(target.path, line + '\n', { mode: 0o600 });
  } catch { /* stderr still has it */ }
}
