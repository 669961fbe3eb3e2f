// The engine: one object that both faces (CLI, API) call. It owns the state
// roots and the stores, and glues images to the runtime: an image becomes an
// overlay root filesystem, its config and the user's flags an OCI spec, and
// the runtime runs it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { BerthError, conflict, invalid, notFound } from '../util/errors.js';
import { openDatabase, migrate, type Database } from '../util/db.js';
import { ContentStore } from '../image/content-store.js';
import { LayerStore, chainIdsOf } from '../image/layers.js';
import { ImageStore, type Image } from '../image/images.js';
import { mountRootfs, unmountRootfs } from '../image/snapshots.js';
import { pullImage, pushImage, type PullOptions, type PullResult, type PushProgress } from '../image/pull.js';
import { parseReference, familiarString } from '../image/reference.js';
import { Runtime, type RunResult } from '../runtime/container.js';
import { mergeProcess, containerSpec, type RunFlags } from './container-spec.js';
import { randomName } from './names.js';
import type { HostConfig } from './host-config.js';
import { applyHostConfig } from './host-options.js';
import { containerMounts } from './volumes.js';

export const DEFAULT_ROOT = '/var/lib/berth';
export const DEFAULT_RUN_ROOT = '/run/berth';

export interface EngineOptions {
  root?: string;
  runRoot?: string;
}

const CONTAINER_STEPS = [
  `CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     image TEXT NOT NULL,
     image_id TEXT NOT NULL,
     created TEXT NOT NULL,
     config TEXT NOT NULL,
     status TEXT NOT NULL,
     exit_code INTEGER,
     started_at TEXT,
     finished_at TEXT
   ) STRICT;`,
];

export interface RunImageOptions extends RunFlags {
  image: string;
  name?: string;
  rm?: boolean;
  platform?: PullOptions['platform'];
  /** Attach stdin (`-i`). */
  interactive?: boolean;
  stdio?: StdioOptions;
  /** Told before a missing image is pulled, and how the pull goes. */
  onPull?: { start: (ref: string) => void; options: Pick<PullOptions, 'onProgress' | 'onStart'>; done: (r: PullResult) => void };
  warn?: (message: string) => void;
  hostConfig?: HostConfig;
}

export class Engine {
  readonly root: string;
  readonly runRoot: string;
  private dbHandle: Database | undefined;
  private storesHandle: { content: ContentStore; layers: LayerStore; images: ImageStore } | undefined;

  constructor(opts: EngineOptions = {}) {
    this.root = opts.root ?? process.env.BERTH_ROOT ?? DEFAULT_ROOT;
    this.runRoot = opts.runRoot ?? process.env.BERTH_RUN_ROOT ?? DEFAULT_RUN_ROOT;
  }

  get db(): Database {
    if (!this.dbHandle) {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
      this.dbHandle = openDatabase(this.root);
      migrate(this.dbHandle, 'engine', CONTAINER_STEPS);
    }
    return this.dbHandle;
  }

  get stores(): { content: ContentStore; layers: LayerStore; images: ImageStore } {
    if (!this.storesHandle) {
      const content = new ContentStore(this.root);
      this.storesHandle = { content, layers: new LayerStore(this.root), images: new ImageStore(this.db, content) };
    }
    return this.storesHandle;
  }

  get runtime(): Runtime {
    return new Runtime(join(this.runRoot, 'runtime'));
  }

  pull(text: string, opts: PullOptions = {}): Promise<PullResult> {
    return pullImage(this.stores, text, opts);
  }

  push(name: string, target: string | undefined, opts: { onProgress?: (p: PushProgress) => void } = {}) {
    return pushImage(this.stores, name, target, opts);
  }

  image(text: string): Image {
    return this.stores.images.resolve(text);
  }

  /** An image by name or ID; pulled when missing and `onPull` is given. */
  private async imageForRun(opts: RunImageOptions): Promise<Image> {
    try {
      return this.image(opts.image);
    } catch (err) {
      if (!(err instanceof BerthError && err.kind === 'notFound') || !opts.onPull) throw err;
    }
    const ref = parseReference(opts.image);
    opts.onPull.start(familiarString(ref));
    const result = await this.pull(opts.image, { ...opts.onPull.options, ...(opts.platform ? { platform: opts.platform } : {}) });
    opts.onPull.done(result);
    return result.image;
  }

  /** `berth run`: an image's container in the foreground; removed after with `rm`. */
  async run(opts: RunImageOptions): Promise<RunResult & { name: string }> {
    if (opts.name !== undefined && !/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(opts.name)) {
      throw invalid('InvalidName', `invalid container name "${opts.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const image = await this.imageForRun(opts);
    const { layers, images } = this.stores;
    const config = images.config(image).config ?? {};
    const id = randomBytes(32).toString('hex');
    const name = opts.name ?? this.freeName();
    const hostname = opts.hostname ?? id.slice(0, 12);
    const merged = mergeProcess(config, { ...opts, hostname });
    try {
      this.db.prepare(`INSERT INTO containers (id, name, image, image_id, created, config, status) VALUES (?, ?, ?, ?, ?, ?, 'created')`)
        .run(id, name.replace(/^\//, ''), opts.image, image.configDigest, new Date().toISOString(), JSON.stringify({ ...merged, tty: opts.tty ?? false }));
    } catch (err) {
      if (/UNIQUE constraint failed: containers\.name/.test(String(err))) {
        throw conflict('NameInUse', `the container name "/${name.replace(/^\//, '')}" is already in use`);
      }
      throw err;
    }
    const dir = join(this.root, 'containers', id);
    let mounted = false;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o710 });
      const rootfs = mountRootfs(layers, chainIdsOf(image.layers.map((l) => l.diffId)).at(-1), dir);
      mounted = true;
      ensureWorkdir(rootfs, merged.cwd);
      const spec = containerSpec({ rootfs, hostname, process: merged, tty: opts.tty ?? false, labels: config.Labels ?? {} });
      spec.linux!.cgroupsPath = `/berth/${id}`;
      const hc = opts.hostConfig ?? {};
      applyHostConfig(spec, hc, { rootfs, warn: opts.warn ?? ((m) => process.stderr.write(`berth: warning: ${m}\n`)) });
      spec.mounts!.push(...await containerMounts(this, id, hc, Object.keys(config.Volumes ?? {}), rootfs));
      // Docker gives each container its own hostname and hosts files.
      writeFileSync(join(dir, 'hostname'), `${hostname}\n`);
      writeFileSync(join(dir, 'hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`);
      for (const f of ['hostname', 'hosts']) {
        spec.mounts!.push({ destination: `/etc/${f}`, type: 'bind', source: join(dir, f), options: ['rbind', 'rprivate'] });
      }
      const bundle = join(dir, 'bundle');
      mkdirSync(bundle, { recursive: true });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
      this.db.prepare(`UPDATE containers SET status = 'running', started_at = ? WHERE id = ?`).run(new Date().toISOString(), id);
      const stdio = opts.stdio ?? [opts.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'];
      const result = await this.runtime.run({ id, bundle, stdio: (Array.isArray(stdio) ? stdio : [stdio, stdio, stdio]) as never, warn: opts.warn });
      this.db.prepare(`UPDATE containers SET status = 'exited', exit_code = ?, finished_at = ? WHERE id = ?`).run(result.status, result.finishedAt, id);
      return { ...result, name };
    } catch (err) {
      this.db.prepare(`UPDATE containers SET status = 'exited', exit_code = ? WHERE id = ? AND status != 'exited'`)
        .run(err instanceof BerthError ? err.exitStatus : 125, id);
      throw err;
    } finally {
      if (mounted) unmountRootfs(dir);
      if (opts.rm) await this.removeContainer(id);
    }
  }

  /** Forget a stopped container: its directory and its record. */
  async removeContainer(idOrName: string): Promise<void> {
    // Docker's order: the full ID, then the name, then an ID prefix (hex only).
    const name = idOrName.replace(/^\//, '');
    const exact = this.db.prepare('SELECT id, status FROM containers WHERE id = ? OR name = ?').all(idOrName, name) as { id: string; status: string }[];
    const rows = exact.length || !/^[a-f0-9]+$/.test(idOrName) ? exact
      : this.db.prepare('SELECT id, status FROM containers WHERE substr(id, 1, ?) = ?').all(idOrName.length, idOrName) as { id: string; status: string }[];
    if (rows.length === 0 || idOrName === '') throw notFound('ContainerNotFound', `no such container: ${idOrName}`);
    if (rows.length > 1) throw invalid('AmbiguousContainer', `multiple containers match "${idOrName}": use more of the ID`);
    const row = rows[0]!;
    if (row.status === 'running' && this.runtimeAlive(row.id)) throw conflict('ContainerRunning', `cannot remove container ${idOrName}: it is running`);
    // A container whose `run` died leaves runtime state behind: clear it too.
    if (this.runtime.state.ids().includes(row.id)) await this.runtime.delete(row.id, true);
    const dir = join(this.root, 'containers', row.id);
    unmountRootfs(dir);
    rmSync(dir, { recursive: true, force: true });
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(row.id);
  }

  private runtimeAlive(id: string): boolean {
    try {
      return this.runtime.stateOf(id).status !== 'stopped';
    } catch {
      return false;
    }
  }

  /** Image IDs used by containers (an image in use is not removed without force). */
  imagesInUse(): Map<string, string[]> {
    const used = new Map<string, string[]>();
    for (const row of this.db.prepare('SELECT id, image_id FROM containers').all() as { id: string; image_id: string }[]) {
      used.set(row.image_id, [...(used.get(row.image_id) ?? []), row.id]);
    }
    return used;
  }

  private freeName(): string {
    // As Docker: a few tries at a plain name, then with a number appended.
    for (let attempt = 0; ; attempt++) {
      const name = attempt < 10 ? randomName() : `${randomName()}${attempt}`;
      if (!this.db.prepare('SELECT 1 FROM containers WHERE name = ?').get(name)) return name;
    }
  }
}

/**
 * Docker creates a missing working directory. Each component is created only
 * if absent, and never through a symlink, so an image cannot steer the mkdir
 * out of its root filesystem.
 */
function ensureWorkdir(rootfs: string, cwd: string): void {
  let current = rootfs;
  // Normalised from the root: '..' cannot climb above it.
  for (const part of posix.normalize(`/${cwd}`).split('/').filter(Boolean)) {
    current = join(current, part);
    try {
      const st = lstatSync(current);
      if (st.isSymbolicLink()) return; // the runtime resolves it inside the root
      if (!st.isDirectory()) return;
    } catch {
      mkdirSync(current, { mode: 0o755 });
    }
  }
}
