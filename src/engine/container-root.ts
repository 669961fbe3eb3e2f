// Paths inside a container's root filesystem, resolved as the container's own
// processes would see them, from the host. A container's files are hostile:
// a symlink `/etc -> /` or `x -> ../../..` must mean the container's `/`, not
// the host's. The kernel would follow such a link out of the root, so every
// component is walked here with lstat: a symlink is read and its target
// resolved again from the container's root, and `..` stops at that root
// (Docker's FollowSymlinkInScope does the same). What comes back names only
// real directories on the way, so the kernel has nothing left to follow.
//
// This holds while nobody swaps a directory for a symlink between the walk
// and the use: callers freeze a running container for the duration
// (container-fs.ts), and a stopped one has nobody inside.
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, invalid } from '../util/errors.js';

/** Linux's limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;

export interface ResolvedPath {
  /** The path on the host (`root` joined with `inside`). */
  host: string;
  /** The path as the container sees it, normalised, symlinks resolved: '/' or '/a/b'. */
  inside: string;
  /** What is there (lstat, so a symlink kept by `followLast: false` shows as one); undefined if nothing. */
  stat: Stats | undefined;
}

/**
 * Resolve `path` (absolute, or relative to the root) inside `root`. Every
 * component but the last is followed if it is a symlink; the last only with
 * `followLast`. A missing component ends the walk: the rest is appended as
 * written (normalised), and `stat` is undefined.
 */
export function resolveInRoot(root: string, path: string, opts: { followLast: boolean }): ResolvedPath {
  const done: string[] = [];
  const queue = split(path);
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = hostOf(root, [...done, part]);
    const st = lstatOrUndefined(here);
    if (!st) {
      done.push(part);
      // Nothing here, so nothing below can be a symlink either: the rest is lexical.
      for (const rest of queue) {
        if (rest === '..') done.pop();
        else done.push(rest);
      }
      return { host: hostOf(root, done), inside: insideOf(done), stat: undefined };
    }
    if (st.isSymbolicLink() && (queue.length > 0 || opts.followLast)) {
      if (++links > MAX_LINKS) throw invalid('TooManyLinks', `resolving ${path}: too many levels of symbolic links`);
      const target = readlinkSync(here);
      if (target.startsWith('/')) done.length = 0;
      queue.unshift(...split(target));
      continue;
    }
    done.push(part);
  }
  const host = hostOf(root, done);
  return { host, inside: insideOf(done), stat: lstatOrUndefined(host) };
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function hostOf(root: string, parts: string[]): string {
  // The trailing '/' makes a root that is itself a link (/proc/<pid>/root) mean its target.
  return parts.length === 0 ? `${root.replace(/\/+$/, '')}/` : join(root, ...parts);
}

function insideOf(parts: string[]): string {
  return `/${parts.join('/')}`;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    return nothingThere(err);
  }
}

/** lstat, or undefined if nothing is at `path`. */
export async function lstatIfAny(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    return nothingThere(err);
  }
}

function nothingThere(err: unknown): undefined {
  // ENOTDIR: a file where the path wants a directory; for the caller, nothing is there.
  if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
  throw err;
}
