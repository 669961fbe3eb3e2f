// `diff`: what a container changed, read from its overlay upper dir against
// the image's layers, in Docker's terms and order. Docker walks the upper dir
// (names sorted in each directory) and reports, for each entry:
//   D  a whiteout (character device 0/0): the path was deleted;
//   A  a path the image does not have;
//   C  one it has, except a directory whose size, mode and mtime are
//      unchanged (it is in the upper dir only because something below it
//      changed);
// and, before an A or D, its parent directory as C if it is not listed yet.
// An opaque directory (deleted and made again) that the image has is a C;
// what it hides from the image is listed as D, where Docker lists nothing.
import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { chainIdsOf } from '../image/layers.js';
import { scanXattrs } from '../image/special-files.js';
import type { Engine } from './engine.js';
import { containerPaths, type ContainerInfo } from './container-info.js';
import { lstatIfAny } from './container-root.js';
import { specOf } from './container-fs.js';

export type ChangeKind = 'A' | 'C' | 'D';
export interface Change { kind: ChangeKind; path: string }

interface Lower { diff: string; opaque: Set<string> }

export async function containerChanges(engine: Engine, container: string): Promise<Change[]> {
  const info = await engine.container(container);
  const upper = containerPaths(info.dir, info.id).upper;
  const image = engine.image(info.imageId);
  const top = chainIdsOf(image.layers.map((l) => l.diffId)).at(-1);
  const layers = engine.stores.layers;
  // Docker's init layer is the top one below the container's changes: what differs from it is a change.
  const lowers: Lower[] = [
    { diff: join(info.dir, 'init'), opaque: new Set<string>() },
    ...(top === undefined ? [] : layers.chain(top).map((rec) => ({ diff: layers.diffDir(rec.chainId), opaque: new Set(rec.opaque) }))),
  ];
  const { opaque } = await scanXattrs(upper);
  const walk = new ChangeWalk(upper, lowers, new Set(opaque), mountpointsOf(info));
  await walk.dir('');
  return walk.changes;
}

class ChangeWalk {
  readonly changes: Change[] = [];
  private readonly listed = new Set<string>();

  constructor(
    private readonly upper: string,
    private readonly lowers: Lower[],
    private readonly opaque: Set<string>,
    private readonly mountpoints: Set<string>,
  ) {}

  async dir(rel: string): Promise<void> {
    const names = new Set(await readdir(join(this.upper, rel)));
    // What an opaque directory hides of the image is gone too.
    const hidden = rel !== '' && this.opaque.has(rel) ? (await this.lowerNames(rel)).filter((n) => !names.has(n)) : [];
    for (const name of [...names, ...hidden].sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (!names.has(name)) {
        this.record('D', path);
        continue;
      }
      const st = await lstat(join(this.upper, path));
      if (st.isCharacterDevice() && st.rdev === 0) {
        this.record('D', path);
        continue;
      }
      const below = await this.lowerStat(path);
      if (!below && this.mountpoints.has(path) && await isEmpty(join(this.upper, path), st)) continue;
      if (below && below.isDirectory() && st.isDirectory() && !this.opaque.has(path) && sameDirectory(st, below)) {
        await this.dir(path);
        continue;
      }
      this.record(below ? 'C' : 'A', path);
      if (st.isDirectory()) {
        this.listed.add(path);
        await this.dir(path);
      }
    }
  }

  private record(kind: ChangeKind, path: string): void {
    const parent = posix.dirname(path);
    if (kind !== 'C' && parent !== '.' && !this.listed.has(parent)) {
      this.changes.push({ kind: 'C', path: `/${parent}` });
      this.listed.add(parent);
    }
    this.changes.push({ kind, path: `/${path}` });
  }

  /** The image's entry at `path`: the topmost layer that has it, unless a layer above hides it. */
  private async lowerStat(path: string): Promise<Stats | undefined> {
    const ancestors = path.split('/').slice(0, -1).map((_p, i, parts) => parts.slice(0, i + 1).join('/'));
    for (const layer of this.lowers) {
      const st = await lstatIfAny(join(layer.diff, path));
      if (st) return st.isCharacterDevice() && st.rdev === 0 ? undefined : st;
      if (layer.opaque.has('')) return undefined;
      for (const a of ancestors) {
        const above = await lstatIfAny(join(layer.diff, a));
        if (above && (!above.isDirectory() || layer.opaque.has(a))) return undefined;
      }
    }
    return undefined;
  }

  private async lowerNames(rel: string): Promise<string[]> {
    const names = new Set<string>();
    for (const layer of this.lowers) {
      let here: string[] = [];
      try {
        here = await readdir(join(layer.diff, rel));
      } catch { /* not in this layer */ }
      for (const n of here) names.add(n);
    }
    const visible: string[] = [];
    for (const n of names) if (await this.lowerStat(`${rel}/${n}`)) visible.push(n);
    return visible;
  }
}

/** Docker's test: a directory is unchanged if its size, mode and mtime are (times of second precision match either way). */
function sameDirectory(a: Stats, b: Stats): boolean {
  const whole = (ms: number) => ms % 1000 === 0;
  const sameTime = a.mtimeMs === b.mtimeMs || (Math.floor(a.mtimeMs / 1000) === Math.floor(b.mtimeMs / 1000) && (whole(a.mtimeMs) || whole(b.mtimeMs)));
  return a.size === b.size && a.mode === b.mode && sameTime;
}

/**
 * Mount points the runtime made for the container's mounts (/etc/hostname…):
 * berth's doing, not the container's, so not a change (Docker keeps them in
 * an init layer of their own).
 */
function mountpointsOf(info: ContainerInfo): Set<string> {
  return new Set((specOf(info)?.mounts ?? []).map((m) => posix.normalize(m.destination).replace(/^\/+/, '')));
}

async function isEmpty(path: string, st: Stats): Promise<boolean> {
  if (st.isFile()) return st.size === 0;
  return st.isDirectory() && (await readdir(path)).length === 0;
}
