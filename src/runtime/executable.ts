// Before a container is created, check that its program exists and can be
// executed, so that the user gets 127 or 126 and a clear message at once, as
// Docker does, rather than a container that dies on start. The lookup
// resolves symlinks inside the root filesystem, never outside it.
import { lstatSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { BerthError } from '../util/errors.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** lstat a container path, following symlinks as the container would see them. */
export function statInRoot(rootfs: string, path: string): Stats | undefined {
  return resolveInRoot(rootfs, path)?.stats;
}

/**
 * Resolve a container path to the host path it names, following symlinks as
 * the container would see them (absolute targets restart at the container's
 * root), so that no link in an image can point the lookup at the host.
 */
export function resolveInRoot(rootfs: string, path: string, depth = 0): { hostPath: string; stats: Stats } | undefined {
  if (depth > 40) return undefined;
  const parts = posix.normalize(path).split('/').filter(Boolean);
  let current = '/';
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(current, parts[i]!);
    let st: Stats;
    try {
      st = lstatSync(rootfs + next);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      const target = readlinkSync(rootfs + next);
      const resolved = posix.resolve(current, target); // absolute targets restart at the container's root
      return resolveInRoot(rootfs, posix.join(resolved, ...parts.slice(i + 1)), depth + 1);
    }
    if (i === parts.length - 1) return { hostPath: rootfs + next, stats: st };
    if (!st.isDirectory()) return undefined;
    current = next;
  }
  return { hostPath: rootfs, stats: lstatSync(rootfs) };
}

/** A small regular file of the container (passwd, group), read without leaving its root; undefined if absent. */
export function readFileInRoot(rootfs: string, path: string, maxBytes = 1 << 20): string | undefined {
  const found = resolveInRoot(rootfs, path);
  if (!found || !found.stats.isFile() || found.stats.size > maxBytes) return undefined;
  return readFileSync(found.hostPath, 'utf8');
}

function underMount(path: string, mounts: readonly { destination: string }[]): boolean {
  return mounts.some((m) => m.destination !== '/' && (path === m.destination || path.startsWith(m.destination.replace(/\/$/, '') + '/')));
}

export function checkExecutable(rootfs: string, file: string, env: readonly string[], mounts: readonly { destination: string }[]): void {
  const candidates = file.includes('/')
    ? [file.startsWith('/') ? file : posix.join('/', file)]
    : (env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH).split(':').filter(Boolean).map((dir) => posix.join(dir, file));
  // Programs may come from a bind mount: the root filesystem cannot tell.
  if (candidates.some((c) => underMount(c, mounts))) return;
  let sawNonExecutable: string | undefined;
  for (const candidate of candidates) {
    const st = statInRoot(rootfs, candidate);
    if (!st) continue;
    if (st.isFile() && (st.mode & 0o111) !== 0) return;
    sawNonExecutable ??= st.isDirectory() ? `${candidate}: is a directory` : `${candidate}: permission denied`;
  }
  if (sawNonExecutable) throw new BerthError('cannotExecute', 'NotExecutable', `process.args[0]: exec: "${file}": ${sawNonExecutable}`);
  throw new BerthError('commandNotFound', 'ExecutableNotFound', file.includes('/')
    ? `process.args[0]: exec: "${file}": no such file or directory`
    : `process.args[0]: exec: "${file}": executable file not found in $PATH`);
}
