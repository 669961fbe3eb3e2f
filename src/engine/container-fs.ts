// A container's filesystem from outside: `cp` in both directions and
// `export`. Both work on running and stopped containers alike:
//
// - a running container is reached through /proc/<pid>/root, its own view
//   (volumes and tmpfs mounts included, as `docker cp` sees them), and is
//   frozen while berth walks it, so that no process inside can swap a
//   checked directory for a symlink half-way (container-root.ts);
// - a stopped one through its overlay, mounted for the duration.
//
// Docker's archive rules decide where a copy lands (docs of `docker cp`): a
// file goes to DEST or into DEST if that is a directory; a directory becomes
// DEST if DEST is missing, else goes into it, or with SRC ending in `/.` only
// its contents do; a trailing `/` says "a directory".
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, conflict, invalid, notFound, systemError } from '../util/errors.js';
import type { Spec } from '../runtime/spec.js';
import type { Engine } from './engine.js';
import { containerPaths, type ContainerInfo } from './container-info.js';
import { resolveInRoot, type ResolvedPath } from './container-root.js';
import { isInitLayerEntry, isMountPoint, unmountRootfs } from '../image/snapshots.js';
import { extractArchive, packTree, type Owner } from './container-archive.js';

export interface CopyOptions {
  /** `-a`: keep the source's owners (without it, what lands in a container belongs to its root). */
  archive?: boolean;
  /** `-L`: copy what a symlink SRC points at, not the link. */
  followLink?: boolean;
}

/** Host ids ⇄ the container's, from its user namespace mappings (identity without one). */
export interface IdMapping {
  toHost(ids: Owner): Owner;
  toContainer(ids: Owner): Owner;
}

type Mapping = { containerID: number; hostID: number; size: number };

export function idMappingOf(info: ContainerInfo): IdMapping {
  const linux = specOf(info)?.linux;
  const uids = (linux?.uidMappings ?? []) as Mapping[];
  const gids = (linux?.gidMappings ?? []) as Mapping[];
  const map = (table: Mapping[], id: number, from: 'containerID' | 'hostID', to: 'containerID' | 'hostID'): number => {
    if (table.length === 0) return id;
    const m = table.find((e) => id >= e[from] && id < e[from] + e.size);
    // Unmapped ids show as the overflow id inside, as the kernel shows them.
    return m ? m[to] + (id - m[from]) : 65534;
  };
  return {
    toHost: ({ uid, gid }) => ({ uid: map(uids, uid, 'containerID', 'hostID'), gid: map(gids, gid, 'containerID', 'hostID') }),
    toContainer: ({ uid, gid }) => ({ uid: map(uids, uid, 'hostID', 'containerID'), gid: map(gids, gid, 'hostID', 'containerID') }),
  };
}

/**
 * Run `fn` with the container's root as the host reaches it: a running
 * container frozen meanwhile (unless it was paused already), a stopped one
 * with its overlay mounted.
 */
export async function withContainerRoot<T>(engine: Engine, info: ContainerInfo, fn: (root: string) => Promise<T>): Promise<T> {
  if (!info.state.Running || info.state.Pid <= 0) return withOverlay(engine, info, (rootfs) => withBindMounts(info, rootfs, () => fn(rootfs)));
  return frozen(engine, info, () => fn(`/proc/${info.state.Pid}/root`));
}

/** The engine's withRootfs, and the mount undone even if the process ends half-way. */
function withOverlay<T>(engine: Engine, info: ContainerInfo, fn: (rootfs: string) => Promise<T>): Promise<T> {
  const wasMounted = isMountPoint(containerPaths(info.dir, info.id).rootfs);
  return undoOnExit(() => { if (!wasMounted) unmountRootfs(info.dir); }, () => engine.withRootfs(info.id, fn));
}

/** Run `fn` with a running container frozen (if it is not paused already), thawed after. */
export async function frozen<T>(engine: Engine, info: ContainerInfo, fn: () => Promise<T>): Promise<T> {
  if (!info.state.Running || info.state.Paused) return fn();
  engine.runtime.pause(info.id);
  const thaw = () => {
    try {
      engine.runtime.resume(info.id);
    } catch (err) {
      // It ended meanwhile: nothing is frozen any more.
      if (!(err instanceof BerthError && err.kind === 'conflict')) throw err;
    }
  };
  try {
    return await undoOnExit(thaw, fn);
  } finally {
    thaw();
  }
}

/**
 * Run `fn`; should the process end before it settles (process.exit when the
 * reader of stdout goes away), `undo` runs on the way out, so that no mount
 * stays behind and no container stays frozen. `undo` must be synchronous.
 */
async function undoOnExit<T>(undo: () => void, fn: () => Promise<T>): Promise<T> {
  const onExit = () => {
    try {
      undo();
    } catch { /* the process is ending either way */ }
  };
  process.once('exit', onExit);
  try {
    return await fn();
  } finally {
    process.off('exit', onExit);
  }
}

/**
 * A stopped container's volumes and bind mounts, mounted on its overlay for
 * the duration, as Docker mounts them for `cp`: what is copied to /data of a
 * container with `-v vol:/data` goes to the volume, as it would if it ran.
 * (A mount point the container never made, because it never started, is
 * left out; tmpfs mounts hold nothing while it is stopped.)
 */
async function withBindMounts<T>(info: ContainerInfo, rootfs: string, fn: () => Promise<T>): Promise<T> {
  const mounted: string[] = [];
  const unmountAll = () => {
    for (const target of mounted.splice(0).reverse()) {
      try {
        runMount([target], 'umount');
      } catch {
        runMount(['-l', target], 'umount');
      }
    }
  };
  try {
    for (const m of specOf(info)?.mounts ?? []) {
      if (m.type !== 'bind' || !m.source) continue;
      const target = resolveInRoot(rootfs, m.destination, { followLast: true });
      const source = statIfAny(m.source);
      if (!source || !target.stat || target.stat.isDirectory() !== source.isDirectory()) continue;
      runMount(['--bind', m.source, target.host]);
      mounted.push(target.host);
      if (m.options?.includes('ro')) runMount(['-o', 'remount,bind,ro', target.host]);
    }
    return await undoOnExit(unmountAll, fn);
  } finally {
    unmountAll();
  }
}

function runMount(args: string[], command: 'mount' | 'umount' = 'mount'): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw systemError('MountFailed', `${command} ${args.join(' ')}: ${String((err as { stderr?: Buffer }).stderr ?? '').trim() || (err as Error).message}`, err);
  }
}

function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The container's OCI spec, as the engine wrote it at create. */
export function specOf(info: ContainerInfo): Spec | undefined {
  try {
    return JSON.parse(readFileSync(containerPaths(info.dir, info.id).config, 'utf8')) as Spec;
  } catch {
    return undefined;
  }
}

/** `cp CONTAINER:SRC DEST|-`. */
export async function copyFromContainer(engine: Engine, container: string, src: string, dest: string | Writable, opts: CopyOptions = {}): Promise<void> {
  const info = await engine.container(container);
  const ids = idMappingOf(info);
  await withContainerRoot(engine, info, async (root) => {
    const source = resolveSource(root, src, opts, `container ${container}`);
    if (typeof dest !== 'string') {
      await pipeline(packTree(source.resolved.host, source.name || '.', ids.toContainer), dest);
      return;
    }
    const where = 'the host';
    const target = copyTarget('/', source, hostPath(dest), where);
    // Files copied out belong to whoever copies them, unless -a keeps the container's owners.
    await extractArchive(packTree(source.resolved.host, target.name, ids.toContainer), {
      root: '/', into: target.into, owner: (o) => (opts.archive ? o : undefined), where,
    });
  });
}

/** `cp SRC|- CONTAINER:DEST`. */
export async function copyToContainer(engine: Engine, src: string | Readable, container: string, dest: string, opts: CopyOptions = {}): Promise<void> {
  const info = await engine.container(container);
  if (info.body.HostConfig?.ReadonlyRootfs) throw conflict('ReadonlyRootfs', `cannot copy to container ${container}: its root filesystem is read-only`);
  const ids = idMappingOf(info);
  const where = `container ${container}`;
  const owner = (o: Owner) => ids.toHost(opts.archive ? o : { uid: 0, gid: 0 });
  // The host side first: a missing SRC fails before the container is touched.
  const source = typeof src === 'string' ? resolveSource('/', hostPath(src), opts, 'the host') : undefined;
  await withContainerRoot(engine, info, async (root) => {
    if (!source) {
      const target = resolveInRoot(root, dest, { followLast: true });
      if (!target.stat) throw notFound('NoSuchPath', `Could not find the file ${dest} in container ${container}`);
      if (!target.stat.isDirectory()) throw invalid('NotADirectory', `cannot extract a tar archive to ${container}:${dest}: the destination must be a directory`);
      await extractArchive(src as Readable, { root, into: target.inside, owner, where });
      return;
    }
    const to = copyTarget(root, source, dest, where);
    await extractArchive(packTree(source.resolved.host, to.name, (o) => o), { root, into: to.into, owner, where });
  });
}

interface Source {
  resolved: ResolvedPath & { stat: NonNullable<ResolvedPath['stat']> };
  isDir: boolean;
  /** SRC ended in `/.`: the directory's contents, not the directory. */
  contentsOnly: boolean;
  /** The name the copy takes by default: SRC's last component. */
  name: string;
}

function resolveSource(root: string, src: string, opts: CopyOptions, where: string): Source {
  const wantsDir = /\/\.?$/.test(src);
  const contentsOnly = /(^|\/)\.$/.test(src);
  const resolved = resolveInRoot(root, src, { followLast: (opts.followLink ?? false) || wantsDir });
  if (!resolved.stat) {
    throw notFound('NoSuchPath', where === 'the host' ? `Could not find the file ${src} on the host: no such file or directory` : `Could not find the file ${src} in ${where}`);
  }
  const isDir = resolved.stat.isDirectory();
  if (wantsDir && !isDir) throw invalid('NotADirectory', `cannot copy ${src} from ${where}: it is not a directory`);
  // The root copies as its contents: it has no name of its own.
  const name = posix.basename(resolved.inside);
  return { resolved: resolved as Source['resolved'], isDir, contentsOnly: contentsOnly || name === '', name };
}

/** A host path as given, made absolute; a trailing '/' or '/.' kept (it means "a directory"). */
function hostPath(path: string): string {
  return path.startsWith('/') ? path : `${process.cwd()}/${path}`;
}

/**
 * Where a copy to `destArg` (in `root`) goes: the directory to extract into
 * (inside the root) and the name SRC takes there ('' for its contents).
 */
function copyTarget(root: string, source: Source, destArg: string, where: string): { into: string; name: string } {
  const dest = resolveInRoot(root, destArg, { followLast: true });
  if (dest.stat?.isDirectory()) {
    return { into: dest.inside, name: source.isDir && source.contentsOnly ? '' : source.name || '' };
  }
  if (dest.stat) {
    if (source.isDir) throw conflict('CannotCopyDirectory', `cannot copy a directory to a file: ${destArg} in ${where} is a file`);
    return { into: posix.dirname(dest.inside), name: posix.basename(dest.inside) };
  }
  if (/\/\.?$/.test(destArg) && !source.isDir) {
    throw notFound('NoSuchDirectory', `cannot copy a file to ${destArg} in ${where}: the directory does not exist`);
  }
  const parent = resolveInRoot(root, posix.dirname(dest.inside), { followLast: true });
  if (!parent.stat?.isDirectory()) {
    throw notFound('NoSuchPath', where === 'the host'
      ? `invalid output path: directory ${posix.dirname(dest.inside)} does not exist`
      : `Could not find the file ${posix.dirname(destArg)} in ${where}`);
  }
  return { into: parent.inside, name: posix.basename(dest.inside) };
}

/** `export`: the container's whole filesystem as a tar, as the container sees it without its volumes. */
export async function exportContainer(engine: Engine, container: string, out: Writable): Promise<void> {
  const info = await engine.container(container);
  const ids = idMappingOf(info);
  try {
    // Docker's init layer (/.dockerenv, /etc/mtab) is berth's, not the container's.
    await withOverlay(engine, info, (rootfs) => pipeline(packTree(rootfs, '', ids.toContainer, (name) => isInitLayerEntry(info.dir, name)), out));
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('system', 'ExportFailed', `exporting container ${container} failed: ${(err as Error).message}`, { cause: err });
  }
}
