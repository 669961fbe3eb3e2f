// Filesystem helpers shared by every layer. State that must survive a crash is
// written only through writeFileAtomic.
//
// The temporary file sits beside the target unless `tmpDir` names another
// directory on the same filesystem: the content store keeps its partial
// files in ingest/, so that blobs/ never holds anything but whole blobs.
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, tmpDir = dirname(path)): void {
  const tmp = join(tmpDir, `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
