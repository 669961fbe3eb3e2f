// Volumes: directories berth manages for containers, outliving them. A
// volume lives at <root>/volumes/<name>/_data (Docker's "local" driver
// layout); its record, and which container mounts it where, live in the
// embedded store (tables `volumes` and `volume_users`).
//
// Every change is one IMMEDIATE transaction, and the directory work that must
// agree with the record (making _data, moving a removed volume aside, moving
// copied content in) happens inside it, so two berth processes cannot make
// two volumes of one name, remove a volume another is starting to use, or
// both fill one volume. Slow work (copying an image's content, deleting a
// removed volume's files) happens outside, on private names.
//
// A container uses a volume from `containerMounts` (its create) until
// `releaseContainerVolumes` (its rm). A user whose container directory
// (<root>/containers/<id>) is gone was left by a command killed half-way,
// and no longer counts.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { INIT_LAYER_ENTRIES, isInitLayerEntry } from '../image/snapshots.js';
import { conflict, invalid, notFound, systemError, errnoCode } from '../util/errors.js';
import { migrate, type Database } from '../util/db.js';
import { resolveInRoot } from '../runtime/executable.js';
import type { SpecMount } from '../runtime/spec.js';
import type { Engine } from './engine.js';
import type { HostConfig } from './host-config.js';
import { appendEvents, notifyEventReaders } from './events.js';
import { checkProcDestination, checkVolumeName, mountPointsOf, type MountPoint } from './mount-points.js';

const STEPS = [
  `CREATE TABLE volumes (
     name TEXT PRIMARY KEY,
     driver TEXT NOT NULL,
     created TEXT NOT NULL,
     labels TEXT,
     options TEXT,
     anonymous INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE volume_users (
     container TEXT NOT NULL,
     target TEXT NOT NULL,
     volume TEXT NOT NULL REFERENCES volumes (name),
     PRIMARY KEY (container, target)
   ) STRICT;
   CREATE INDEX volume_users_by_volume ON volume_users (volume);`,
];

/** Docker labels the volumes it makes for a container this way (and `volume prune` takes only those, unless -a). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface Volume {
  name: string;
  driver: 'local';
  /** <root>/volumes/<name>/_data */
  mountpoint: string;
  /** RFC 3339, seconds. */
  createdAt: string;
  /** null when none were given (a volume a container made). */
  labels: Record<string, string> | null;
  options: Record<string, string> | null;
  anonymous: boolean;
}

interface VolumeRow { name: string; driver: string; created: string; labels: string | null; options: string | null; anonymous: number }

const migrated = new WeakSet<Database>();

function db(engine: Engine): Database {
  const d = engine.db;
  if (!migrated.has(d)) {
    migrate(d, 'volume', STEPS);
    migrated.add(d);
  }
  return d;
}

const volumesDir = (engine: Engine) => join(engine.root, 'volumes');
const volumeDir = (engine: Engine, name: string) => join(volumesDir(engine), name);
const dataDir = (engine: Engine, name: string) => join(volumeDir(engine, name), '_data');

function toVolume(engine: Engine, r: VolumeRow): Volume {
  return {
    name: r.name, driver: 'local', mountpoint: dataDir(engine, r.name), createdAt: r.created,
    labels: r.labels === null ? null : JSON.parse(r.labels) as Record<string, string>,
    options: r.options === null ? null : JSON.parse(r.options) as Record<string, string>,
    anonymous: r.anonymous === 1,
  };
}

/** Docker's volume object (`volume inspect`, the API's GET /volumes/{name}). */
export function dockerVolume(v: Volume): Record<string, unknown> {
  return { CreatedAt: v.createdAt, Driver: v.driver, Labels: v.labels, Mountpoint: v.mountpoint, Name: v.name, Options: v.options, Scope: 'local' };
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function containerExists(engine: Engine, id: string): boolean {
  return existsSync(join(engine.root, 'containers', id));
}

/** The containers using a volume now: a user whose container directory is gone is left from a killed command. */
function liveUsers(engine: Engine, name: string): string[] {
  const d = db(engine);
  const users = [...new Set((d.prepare('SELECT container FROM volume_users WHERE volume = ?').all(name) as { container: string }[]).map((r) => r.container))];
  return users.filter((c) => containerExists(engine, c));
}

interface CreateOptions {
  name?: string;
  driver?: string;
  labels?: Record<string, string> | null;
  options?: Record<string, string> | null;
  anonymous?: boolean;
}

/** Docker's volume event, inside the transaction that made the change; readers are told after it. */
function volumeEvent(engine: Engine, name: string, action: 'create' | 'destroy'): void {
  appendEvents(db(engine), [{ type: 'volume', action, actorId: name, attributes: { driver: 'local' } }]);
  notifyEventReaders(engine);
}

function insertVolume(engine: Engine, name: string, opts: CreateOptions): void {
  const d = db(engine);
  if (!d.prepare('SELECT 1 FROM volumes WHERE name = ?').get(name)) {
    d.prepare('INSERT INTO volumes (name, driver, created, labels, options, anonymous) VALUES (?, ?, ?, ?, ?, ?)').run(
      name, 'local', now(),
      opts.labels === undefined || opts.labels === null ? null : JSON.stringify(opts.labels),
      opts.options === undefined || opts.options === null ? null : JSON.stringify(opts.options),
      opts.anonymous ? 1 : 0);
    volumeEvent(engine, name, 'create');
  }
  // Also when the record exists: a command killed before its commit may have left the record's directory unmade.
  mkdirSync(volumesDir(engine), { recursive: true, mode: 0o701 });
  mkdirSync(dataDir(engine, name), { recursive: true, mode: 0o755 });
}

/** `volume create`: a new volume, or the one of that name if it exists (as Docker does). */
export function createVolume(engine: Engine, opts: CreateOptions = {}): Volume {
  if (opts.driver !== undefined && opts.driver !== 'local') {
    throw invalid('UnknownVolumeDriver', `volume driver "${opts.driver}" is not supported (only "local")`);
  }
  if (opts.options && Object.keys(opts.options).length) {
    throw invalid('VolumeOptionsUnsupported', `driver options (${Object.keys(opts.options).join(', ')}) are not supported by berth's local driver`);
  }
  const name = opts.name ?? randomBytes(32).toString('hex');
  checkVolumeName(name);
  const d = db(engine);
  d.transaction(() => insertVolume(engine, name, opts)).immediate();
  return volume(engine, name);
}

export function volume(engine: Engine, name: string): Volume {
  const row = db(engine).prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
  if (!row) throw notFound('VolumeNotFound', `get ${name}: no such volume`);
  return toVolume(engine, row);
}

/** Every volume, with the containers using it. */
export function listVolumes(engine: Engine): (Volume & { users: string[] })[] {
  const d = db(engine);
  const rows = d.prepare('SELECT * FROM volumes ORDER BY name').all() as VolumeRow[];
  const users = new Map<string, Set<string>>();
  for (const u of d.prepare('SELECT volume, container FROM volume_users').all() as { volume: string; container: string }[]) {
    if (!containerExists(engine, u.container)) continue;
    users.set(u.volume, (users.get(u.volume) ?? new Set()).add(u.container));
  }
  return rows.map((r) => ({ ...toVolume(engine, r), users: [...(users.get(r.name) ?? [])] }));
}

/** Inside a transaction: forget a volume and move its directory aside; returns where it went. */
function discard(engine: Engine, name: string): string | undefined {
  // Only stale users are left when a volume goes; their container's release finds nothing then.
  db(engine).prepare('DELETE FROM volume_users WHERE volume = ?').run(name);
  if (db(engine).prepare('DELETE FROM volumes WHERE name = ?').run(name).changes === 1) volumeEvent(engine, name, 'destroy');
  const trash = join(volumesDir(engine), `.removing-${randomBytes(8).toString('hex')}`);
  try {
    renameSync(volumeDir(engine, name), trash);
    return trash;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw systemError('VolumeRemoveFailed', `remove ${name}: ${(err as Error).message}`, err);
  }
}

/**
 * Delete what `discard` moved aside, and what a killed command left: a
 * removed volume's files, or a copy whose process is gone (a live one's copy
 * is still being made).
 */
function emptyTrash(engine: Engine): void {
  let names: string[];
  try {
    names = readdirSync(volumesDir(engine));
  } catch {
    return;
  }
  for (const n of names) {
    const copier = /^\.copy-(\d+)-/.exec(n)?.[1];
    if (!n.startsWith('.removing-') && !(copier && !processAlive(Number(copier)))) continue;
    try {
      rmSync(join(volumesDir(engine), n), { recursive: true, force: true });
    } catch { /* another berth is deleting it too */ }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** `volume rm`: refused while a container uses it (even with force, as Docker does). */
export function removeVolume(engine: Engine, name: string, opts: { force?: boolean } = {}): void {
  const d = db(engine);
  const removed = d.transaction((): boolean => {
    if (!d.prepare('SELECT 1 FROM volumes WHERE name = ?').get(name)) {
      if (opts.force) return false;
      throw notFound('VolumeNotFound', `get ${name}: no such volume`);
    }
    const users = liveUsers(engine, name);
    if (users.length) throw conflict('VolumeInUse', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    discard(engine, name);
    return true;
  }).immediate();
  if (removed) emptyTrash(engine);
}

/** `volume prune`: unused anonymous volumes (with `all`, every unused volume); label filters as Docker's. */
export function pruneVolumes(engine: Engine, opts: { all?: boolean; labels?: { key: string; value?: string; negate: boolean }[] } = {}): { deleted: string[]; reclaimed: number } {
  const d = db(engine);
  const matches = (v: Volume) => (opts.labels ?? []).every((f) => {
    const has = v.labels !== null && f.key in v.labels && (f.value === undefined || v.labels[f.key] === f.value);
    return has !== f.negate;
  });
  const candidates = listVolumes(engine).filter((v) => v.users.length === 0 && (opts.all || v.anonymous) && matches(v));
  const sizes = new Map(candidates.map((v) => [v.name, directorySize(v.mountpoint)]));
  const deleted = d.transaction((): string[] => {
    const out: string[] = [];
    for (const v of candidates) {
      // Looked at again under the lock: a container may have taken it since.
      if (!d.prepare('SELECT 1 FROM volumes WHERE name = ?').get(v.name) || liveUsers(engine, v.name).length) continue;
      discard(engine, v.name);
      out.push(v.name);
    }
    return out;
  }).immediate();
  emptyTrash(engine);
  return { deleted, reclaimed: deleted.reduce((n, name) => n + (sizes.get(name) ?? 0), 0) };
}

/** Bytes in a directory's files, each hard link counted once (Docker's `directory.Size`). */
export function directorySize(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (path: string) => {
    let entries: string[];
    try {
      entries = readdirSync(path);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(path, e);
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        walk(p);
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && seen.has(key)) continue;
      seen.add(key);
      total += st.size;
    }
  };
  walk(dir);
  return total;
}

/** Inside a transaction: the volume (made when missing) is used by `container` at `target`. */
function acquire(engine: Engine, name: string, container: string, target: string, opts: CreateOptions): void {
  insertVolume(engine, name, opts);
  db(engine).prepare('INSERT OR REPLACE INTO volume_users (container, target, volume) VALUES (?, ?, ?)').run(container, target, name);
}

/**
 * Fill an empty volume with what the image has at `target`, as Docker does on
 * a volume's first use: files, ownership, modes, times, links and xattrs
 * (cp -a), and the directory's own owner and mode. The path is resolved
 * inside the root filesystem, and cp copies symlinks as symlinks, so no link
 * in the image can make the copy read from the host. The copy goes to a
 * private directory first and is moved in under the store's lock only if the
 * volume is still empty, so two containers filling one volume at once fill
 * it once.
 */
function copyImageContent(engine: Engine, name: string, rootfs: string, target: string): void {
  const found = resolveInRoot(rootfs, target);
  if (!found || !found.stats.isDirectory()) return;
  const data = dataDir(engine, name);
  if (readdirSync(data).length) return;
  const staging = join(volumesDir(engine), `.copy-${process.pid}-${randomBytes(8).toString('hex')}`);
  mkdirSync(staging, { mode: 0o700 });
  try {
    try {
      execFileSync('cp', ['-a', '--', `${found.hostPath}/.`, staging], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      throw systemError('VolumeCopyFailed', `copy the image's ${target} into volume ${name}: ${stderr || (err as Error).message}`, err);
    }
    // What Docker's init layer shows there (/etc/mtab) is berth's, not the image's content.
    const under = `${found.hostPath.slice(rootfs.length).replace(/^\/+/, '')}/`;
    for (const entry of INIT_LAYER_ENTRIES) {
      if (entry.startsWith(under) && isInitLayerEntry(dirname(rootfs), entry)) rmSync(join(staging, entry.slice(under.length)), { force: true });
    }
    const d = db(engine);
    d.transaction(() => {
      if (!d.prepare('SELECT 1 FROM volumes WHERE name = ?').get(name) || readdirSync(data).length) return;
      for (const entry of readdirSync(staging)) renameSync(join(staging, entry), join(data, entry));
      chownSync(data, found.stats.uid, found.stats.gid);
      chmodSync(data, found.stats.mode & 0o7777);
    }).immediate();
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Make a mount point inside the root filesystem, as runc does before it
 * mounts: missing directories (and, for a file bind, the file) are created,
 * and links met on the way are followed as the container would see them
 * (absolute ones from its root), so a link in the image such as
 * /data -> /host/path makes /host/path inside the root, never on the host.
 * Nothing runs in the root yet, so nothing can swap a link in meanwhile;
 * the runtime resolves the path inside the root again when it mounts.
 */
function makeMountPoint(rootfs: string, target: string, file: boolean): void {
  let pending = target.split('/').filter(Boolean);
  let current = '/';
  for (let links = 0; pending.length && links < 40;) {
    const part = pending[0]!;
    const next = posix.join(current, part);
    let st: Stats | undefined;
    try {
      st = lstatSync(rootfs + next);
    } catch {
      const last = pending.length === 1;
      try {
        if (last && file) closeSync(openSync(rootfs + next, 'wx', 0o644));
        else mkdirSync(rootfs + next, { mode: 0o755 });
      } catch {
        return; // the runtime will say what is wrong
      }
      st = lstatSync(rootfs + next);
    }
    if (st.isSymbolicLink()) {
      // '..' cannot climb above the root: posix.resolve stops at '/'.
      pending = [...posix.resolve(current, readlinkSync(rootfs + next)).split('/').filter(Boolean), ...pending.slice(1)];
      current = '/';
      links++;
      continue;
    }
    if (!st.isDirectory()) return;
    current = next;
    pending = pending.slice(1);
  }
}

/** Docker mounts parents before their children: fewer path components first. */
const depth = (target: string) => target.split('/').filter(Boolean).length;

function specMount(engine: Engine, p: MountPoint, volumeName?: string): SpecMount {
  switch (p.type) {
    case 'bind':
      return { destination: p.target, type: 'bind', source: p.source, options: [p.recursive ? 'rbind' : 'bind', p.readOnly ? 'ro' : 'rw', p.propagation] };
    case 'volume':
      return { destination: p.target, type: 'bind', source: dataDir(engine, volumeName!), options: ['rbind', p.readOnly ? 'ro' : 'rw', 'rprivate'] };
    case 'tmpfs':
      // Docker's defaults for every tmpfs; the user's words come after, so "exec" wins over "noexec".
      return { destination: p.target, type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', ...p.options] };
  }
}

/**
 * The mounts of a container, in the order the runtime must make them. Named
 * volumes are created when missing, and filled from the image's content at
 * that path on first use, as Docker does. `imageVolumes` are the image
 * config's Volumes (anonymous volumes unless a mount covers the path).
 * On failure, the container's use of volumes is released again.
 */
export async function containerMounts(engine: Engine, id: string, hc: HostConfig, imageVolumes: string[], rootfs: string): Promise<SpecMount[]> {
  const points = mountPointsOf(hc);
  const covered = new Set(points.map((p) => p.target));
  for (const path of imageVolumes) {
    const target = posix.normalize(`/${path}`).replace(/(.)\/+$/, '$1');
    if (target === '/' || covered.has(target)) continue;
    covered.add(target);
    const point: MountPoint = { type: 'volume', target, readOnly: false, copyData: true };
    checkProcDestination(point);
    points.push(point);
  }
  // Host paths first: a bad --mount source fails before any volume is made.
  for (const p of points) {
    if (p.type !== 'bind' || existsSync(p.source)) continue;
    if (!p.createSource) throw invalid('InvalidMount', `invalid mount config for type "bind": bind source path does not exist: ${p.source}`);
  }
  const mounts: { point: MountPoint; mount: SpecMount }[] = [];
  try {
    for (const p of points) {
      if (p.type === 'bind' && !existsSync(p.source)) {
        try {
          mkdirSync(p.source, { recursive: true, mode: 0o755 });
        } catch (err) {
          throw systemError('BindSourceFailed', `error while creating mount source path '${p.source}': ${(err as Error).message}`, err);
        }
      }
      let name: string | undefined;
      if (p.type === 'volume') {
        name = p.name ?? randomBytes(32).toString('hex');
        const opts: CreateOptions = p.name ? { labels: p.labels ?? null } : { labels: { [ANONYMOUS_LABEL]: '' }, anonymous: true };
        db(engine).transaction(() => acquire(engine, name!, id, p.target, opts)).immediate();
        if (p.copyData) copyImageContent(engine, name, rootfs, p.target);
      }
      makeMountPoint(rootfs, p.target, p.type === 'bind' && !statSync(p.source).isDirectory());
      mounts.push({ point: p, mount: specMount(engine, p, name) });
    }
  } catch (err) {
    releaseContainerVolumes(engine, id, true);
    throw err;
  }
  return mounts.sort((a, b) => depth(a.point.target) - depth(b.point.target)).map((m) => m.mount);
}

/** A container's volumes, for `inspect`'s Mounts: target → volume name. */
export function containerVolumes(engine: Engine, id: string): { target: string; volume: Volume }[] {
  const rows = db(engine).prepare('SELECT u.target AS target, v.* FROM volume_users u JOIN volumes v ON v.name = u.volume WHERE u.container = ? ORDER BY u.target')
    .all(id) as (VolumeRow & { target: string })[];
  return rows.map((r) => ({ target: r.target, volume: toVolume(engine, r) }));
}

/** After `rm`: forget the container's use of its volumes; with `removeAnonymous` (`rm -v`, `--rm`), remove its anonymous ones. */
export function releaseContainerVolumes(engine: Engine, id: string, removeAnonymous: boolean): void {
  const d = db(engine);
  const removed = d.transaction((): number => {
    const used = d.prepare('SELECT DISTINCT v.name AS name, v.anonymous AS anonymous FROM volume_users u JOIN volumes v ON v.name = u.volume WHERE u.container = ?')
      .all(id) as { name: string; anonymous: number }[];
    d.prepare('DELETE FROM volume_users WHERE container = ?').run(id);
    let n = 0;
    for (const v of used) {
      if (!removeAnonymous || v.anonymous !== 1 || liveUsers(engine, v.name).length) continue;
      discard(engine, v.name);
      n++;
    }
    return n;
  }).immediate();
  if (removed) emptyTrash(engine);
}
