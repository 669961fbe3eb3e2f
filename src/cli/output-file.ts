// `-o FILE` of the commands that write an archive (`save`, `export`): the
// archive is written under a temporary name and renamed into place when
// complete, so that a failed command leaves no partial archive.
import { createWriteStream, openSync, renameSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { systemError } from '../util/errors.js';

export async function writeOutputFile(path: string, write: (out: Writable) => Promise<unknown>): Promise<void> {
  const tmp = `${path}.berth-tmp`;
  let fd: number;
  try {
    // Opened now, not when the stream gets round to it, so that cleanup finds it.
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw systemError('CannotWriteOutput', `cannot write ${path}: ${(err as Error).message}`, err);
  }
  const out = createWriteStream('', { fd });
  try {
    await write(out);
    await finished(out);
    renameSync(tmp, path);
  } catch (err) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw err;
  }
}
