// The engine: one object that both faces (CLI, API) call. It owns the state
// roots and the stores, and glues images to the runtime: an image becomes an
// overlay root filesystem, Docker's create body (image config merged with the
// user's flags) an OCI spec, and the runtime runs it under its monitor.
//
// There is no daemon. A container's monitor outlives the command that started
// it and, when the container ends, runs `berth internal exited <id>` (the exit
// hook) so that the engine records the exit, unmounts, removes `--rm`
// containers and applies the restart policy. Every reader reconciles records
// with the runtime too (containers.ts), so a hook that never ran, a killed
// command or a restarted host is noticed the next time anyone looks.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { join, posix, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError, conflict, invalid, notFound } from '../util/errors.js';
import { openDatabase, migrate, type Database } from '../util/db.js';
import { claimExit, forgetExitClaims } from '../util/exit-claims.js';
import { ContentStore } from '../image/content-store.js';
import { LayerStore, chainIdsOf } from '../image/layers.js';
import { ImageStore, type Image } from '../image/images.js';
import { mountRootfs, unmountRootfs, isMountPoint } from '../image/snapshots.js';
import { pullImage, pushImage, type PullOptions, type PullResult, type PushProgress } from '../image/pull.js';
import { parseReference, familiarString } from '../image/reference.js';
import { Runtime, type ExecOptions } from '../runtime/container.js';
import type { ExecHandle } from '../runtime/exec.js';
import { execAnnotations, execInspect, type ExecInspect } from './execs.js';
import type { Spec } from '../runtime/spec.js';
import { signalNumber } from '../runtime/signals.js';
import { mergeProcess, containerSpec, resolveUser, type ImageRunConfig } from './container-spec.js';
import { randomName } from './names.js';
import { DEFAULT_STOP_TIMEOUT, type CreateBody } from './host-config.js';
import { containerPaths, type ContainerInfo } from './container-info.js';
import { applyHostConfig } from './host-options.js';
import { containerMounts, releaseContainerVolumes } from './volumes.js';
import {
  CONTAINER_STEPS, findRow, rowById, reconcile, settleExit, releaseRuntime, infoOf, listContainers, selfOwner, ownerAlive, bootId,
  type ContainerRow,
} from './containers.js';
import { healthMonitor, validateHealthConfig, forgetHealth } from './health.js';
import { NETWORK_STEPS } from '../net/bridge.js';
import { applyNetworkMode, defaultHostname, joinNetwork, plumbNetwork, validateNetworkConfig } from './network.js';
import { transition, changeRecord, containerEvent, LIVE_STATUSES } from './lifecycle.js';
import { recordEvents, eventsDb, Wakeups } from './events.js';

export const DEFAULT_ROOT = '/var/lib/berth';
export const DEFAULT_RUN_ROOT = '/run/berth';

export interface EngineOptions {
  root?: string;
  runRoot?: string;
  /** Told what the stores could not keep as given (a layer's entry of an unknown type, an xattr the host refused). */
  warn?: (message: string) => void;
}

export interface CreateOptions {
  name?: string;
  platform?: PullOptions['platform'];
  /** Told before a missing image is pulled, and how the pull goes. */
  onPull?: { start: (ref: string) => void; options: Pick<PullOptions, 'onProgress' | 'onStart'>; done: (r: PullResult) => void };
  warn?: (message: string) => void;
  /** Leave the rootfs mounted for a start that follows at once (`run`). */
  keepMounted?: boolean;
}

const NAME_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * How the monitor starts the engine's hooks: the CLI's exit-hook entry
 * (cli/hook.ts), which looks whether the exit is handled already before it
 * loads the CLI, and otherwise runs it with the same arguments.
 */
function hookEntry(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    // Running from source (tests): the hook needs the same TypeScript loader.
    const tsx = fileURLToPath(import.meta.resolve('tsx'));
    return [process.execPath, '--import', `file://${tsx}`, '--', join(dirname(here), '..', 'cli', 'hook.ts')];
  }
  return [process.execPath, '--', join(dirname(here), '..', 'cli', 'hook.js')];
}

export class Engine {
  readonly root: string;
  readonly runRoot: string;
  private readonly warn: ((message: string) => void) | undefined;
  private dbHandle: Database | undefined;
  private storesHandle: { content: ContentStore; layers: LayerStore; images: ImageStore } | undefined;
  private runtimeHandle: Runtime | undefined;

  constructor(opts: EngineOptions = {}) {
    this.root = opts.root ?? process.env.BERTH_ROOT ?? DEFAULT_ROOT;
    this.runRoot = opts.runRoot ?? process.env.BERTH_RUN_ROOT ?? DEFAULT_RUN_ROOT;
    this.warn = opts.warn;
  }

  get db(): Database {
    if (!this.dbHandle) {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
      this.dbHandle = openDatabase(this.root);
      migrate(this.dbHandle, 'engine', CONTAINER_STEPS);
      migrate(this.dbHandle, 'network', NETWORK_STEPS);
      eventsDb(this.dbHandle);
    }
    return this.dbHandle;
  }

  get stores(): { content: ContentStore; layers: LayerStore; images: ImageStore } {
    if (!this.storesHandle) {
      const content = new ContentStore(this.root);
      this.storesHandle = { content, layers: new LayerStore(this.root, { warn: this.warn }), images: new ImageStore(this.db, content) };
    }
    return this.storesHandle;
  }

  get runtime(): Runtime {
    this.runtimeHandle ??= new Runtime(join(this.runRoot, 'runtime'));
    return this.runtimeHandle;
  }

  async pull(text: string, opts: PullOptions = {}): Promise<PullResult> {
    const result = await pullImage(this.stores, text, opts);
    this.imageEvent('pull', familiarString(result.ref), familiarString(result.ref), result.image);
    return result;
  }

  async push(name: string, target: string | undefined, opts: { onProgress?: (p: PushProgress) => void } = {}) {
    const result = await pushImage(this.stores, name, target, opts);
    this.imageEvent('push', familiarString(result.ref), familiarString(result.ref), this.image(name));
    return result;
  }

  /** Docker's image event: the image's labels, then the name it is about. */
  imageEvent(action: string, actorId: string, name: string, image?: Image): void {
    let labels: Record<string, string> = {};
    try {
      if (image) labels = (this.imageRunConfig(image).Labels as Record<string, string> | null | undefined) ?? {};
    } catch { /* no config: no labels */ }
    recordEvents(this, [{ type: 'image', action, actorId, attributes: { ...labels, name } }]);
  }

  image(text: string): Image {
    return this.stores.images.resolve(text);
  }

  /** An image by name or ID; pulled when missing and `onPull` is given. */
  private async imageForCreate(text: string, opts: CreateOptions): Promise<Image> {
    try {
      return this.image(text);
    } catch (err) {
      if (!(err instanceof BerthError && err.kind === 'notFound') || !opts.onPull) throw err;
    }
    const ref = parseReference(text);
    opts.onPull.start(familiarString(ref));
    const result = await this.pull(text, { ...opts.onPull.options, ...(opts.platform ? { platform: opts.platform } : {}) });
    opts.onPull.done(result);
    return result.image;
  }

  /** The image config's parts that decide how its containers run. */
  imageRunConfig(image: Image): ImageRunConfig {
    return (this.stores.images.config(image).config ?? {}) as ImageRunConfig;
  }

  // ---- containers -------------------------------------------------------

  /** A container by ID, name or unique ID prefix, reconciled with the runtime. */
  async container(idOrName: string): Promise<ContainerInfo> {
    const row = await reconcile(this, findRow(this, idOrName));
    if (!row || row.status === 'removing') throw notFound('ContainerNotFound', `No such container: ${idOrName}`);
    return infoOf(this, row);
  }

  listContainers(): Promise<ContainerInfo[]> {
    return listContainers(this);
  }

  /** A container's directory: <root>/containers/<id>. */
  containerDir(id: string): string {
    return join(this.root, 'containers', id);
  }

  /** The overlay of an image's layers with the container's upper dir, on `dir`/rootfs. */
  private mountImageRootfs(image: Image, dir: string): string {
    return mountRootfs(this.stores.layers, chainIdsOf(image.layers.map((l) => l.diffId)).at(-1), dir, { initLayer: true });
  }

  /** Short unix socket path of a container's attach socket (sun_path holds 108 bytes). */
  attachSocket(id: string): string {
    return join(this.runRoot, 'attach', `${id.slice(0, 20)}.sock`);
  }

  /**
   * `create`: reserve the name, make the container's directory, and write its
   * OCI bundle from the image config and the body. The record is
   * 'creating' (owned by this process) until everything is in place, so a
   * command killed half-way leaves nothing that a reader would keep.
   */
  async createContainer(body: CreateBody, opts: CreateOptions = {}): Promise<{ id: string; name: string; warnings: string[] }> {
    if (opts.name !== undefined && !NAME_PATTERN.test(opts.name)) {
      throw invalid('InvalidName', `Invalid container name (${opts.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const hc = body.HostConfig ?? {};
    validateHealthConfig(body.Healthcheck);
    if (hc.AutoRemove && hc.RestartPolicy && hc.RestartPolicy.Name !== 'no') {
      throw invalid('ConflictingOptions', 'Conflicting options: --restart and --rm');
    }
    const image = await this.imageForCreate(body.Image, opts);
    const config = this.imageRunConfig(image);
    const id = randomBytes(32).toString('hex');
    const name = (opts.name ?? this.freeName()).replace(/^\//, '');
    const warnings: string[] = [];
    const warn = (m: string) => { warnings.push(m); opts.warn?.(m); };
    validateNetworkConfig(body, warn);
    const insert = () => this.db.prepare(`INSERT INTO containers (id, name, image, image_id, created, config, status, body, owner) VALUES (?, ?, ?, ?, ?, '{}', 'creating', ?, ?)`)
      .run(id, name, body.Image, image.configDigest, new Date().toISOString(), JSON.stringify(body), selfOwner());
    try {
      try {
        insert();
      } catch (err) {
        if (!/UNIQUE constraint failed: containers\.name/.test(String(err))) throw err;
        // The name may be held by the leftover of a killed command: settle it, then try once more.
        const holder = this.db.prepare('SELECT * FROM containers WHERE name = ?').get(name) as ContainerRow | undefined;
        if (holder && !(await reconcile(this, holder))) insert();
        else throw err;
      }
    } catch (err) {
      if (/UNIQUE constraint failed: containers\.name/.test(String(err))) {
        const other = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(name) as { id: string } | undefined;
        throw conflict('NameInUse', `Conflict. The container name "/${name}" is already in use by container "${other?.id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      throw err;
    }
    const dir = this.containerDir(id);
    let mounted = false;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o710 });
      const rootfs = this.mountImageRootfs(image, dir);
      mounted = true;
      const spec = await this.specFor(id, body, config, rootfs, warn);
      const paths = containerPaths(dir, id);
      mkdirSync(paths.bundle, { recursive: true });
      writeFileSync(paths.config, JSON.stringify(spec, null, 2));
      if (!opts.keepMounted) {
        unmountRootfs(dir);
        mounted = false;
      }
      const merged = { args: spec.process!.args, tty: body.Tty ?? false };
      if (!transition(this, id, 'create', { expect: { owner: selfOwner() }, set: { owner: null, config: JSON.stringify(merged) } })) {
        throw conflict('RemovedWhileCreating', `container ${name} was removed while it was being created`);
      }
      return { id, name, warnings };
    } catch (err) {
      if (mounted) unmountRootfs(dir);
      await this.purgeContainer(id, true);
      throw err;
    }
  }

  /** Docker's merge of image config and create body, as an OCI spec. */
  private async specFor(id: string, body: CreateBody, config: ImageRunConfig, rootfs: string, warn: (m: string) => void): Promise<Spec> {
    const hc = body.HostConfig ?? {};
    const hostname = body.Hostname || defaultHostname(id, hc);
    const merged = mergeProcess(config, {
      command: body.Cmd, entrypoint: body.Entrypoint, env: body.Env, workdir: body.WorkingDir || undefined, user: body.User || undefined,
      tty: body.Tty ?? false, hostname,
    });
    ensureWorkdir(rootfs, merged.cwd);
    const spec = containerSpec({ rootfs, hostname, process: merged, tty: body.Tty ?? false, labels: { ...(config.Labels ?? {}), ...(body.Labels ?? {}) } });
    spec.linux!.cgroupsPath = `/berth/${id}`;
    // Docker gives each container its own hostname, hosts and resolv.conf files.
    applyNetworkMode(spec, hc, this.containerDir(id), id, hostname);
    applyHostConfig(spec, hc, { rootfs, warn });
    spec.mounts!.push(...await containerMounts(this, id, hc, Object.keys(config.Volumes ?? {}), rootfs));
    return spec;
  }

  /**
   * `start`: mount the rootfs and start the container under a detached
   * monitor that keeps its log, serves attach, and calls the exit hook.
   * With `beforeStart`, the caller attaches while the process waits to
   * start, so that it sees every byte (`run`, `start -a`).
   */
  async startContainer(idOrName: string, opts: { beforeStart?: (info: ContainerInfo) => Promise<void> | void; warn?: (m: string) => void } = {}): Promise<ContainerInfo> {
    const row = await reconcile(this, findRow(this, idOrName));
    if (!row) throw notFound('ContainerNotFound', `No such container: ${idOrName}`);
    if (row.status === 'running' || row.status === 'starting' || row.status === 'restarting') return infoOf(this, row);
    if (row.status === 'removing' || row.status === 'creating') throw conflict('InvalidState', `container ${idOrName} is being ${row.status === 'removing' ? 'removed' : 'created'}`);
    const claimed = transition(this, row.id, 'claimStart', { from: row.status, set: { owner: selfOwner(), stopped_by_user: 0, restart_streak: 0 } });
    if (!claimed) return this.container(row.id);
    return this.launch(row, opts);
  }

  private async launch(row: ContainerRow, opts: { beforeStart?: (info: ContainerInfo) => Promise<void> | void; warn?: (m: string) => void }): Promise<ContainerInfo> {
    const id = row.id;
    const dir = this.containerDir(id);
    const paths = containerPaths(dir, id);
    const body = JSON.parse(row.body) as CreateBody;
    const previous = row.status === 'restarting' ? 'exited' : row.status;
    try {
      const image = this.image(row.image_id);
      this.mountImageRootfs(image, dir);
      // A runtime state left by an earlier run that was never settled goes first.
      await releaseRuntime(this, id, { unmount: false });
      mkdirSync(dirname(this.attachSocket(id)), { recursive: true, mode: 0o700 });
      const hook = [...hookEntry(), '--root', this.root, '--run-root', this.runRoot, 'internal'];
      const token = randomBytes(8).toString('hex');
      forgetExitClaims(this.runRoot, id);
      this.db.prepare('UPDATE containers SET run_token = ? WHERE id = ?').run(token, id);
      const health = healthMonitor(this, id, body, hook);
      const endpoint = joinNetwork(this, id, body);
      await this.runtime.create({
        id, bundle: paths.bundle, detach: true, warn: opts.warn,
        monitor: {
          logFile: paths.log,
          attachSocket: this.attachSocket(id),
          openStdin: body.OpenStdin ?? false,
          stdinOnce: body.StdinOnce ?? false,
          exitCommand: [...hook, 'exited', id, token],
          ...(health ? { healthcheck: health } : {}),
        },
      });
      const record = this.runtime.state.load(id);
      this.db.prepare(`UPDATE containers SET pid = ?, boot_id = ? WHERE id = ?`).run(record.pid, bootId(), id);
      await plumbNetwork(this, id, body, endpoint, record.pid);
      if (opts.beforeStart) await opts.beforeStart(infoOf(this, { ...row, status: 'running', pid: record.pid }));
      this.runtime.start(id);
      transition(this, id, 'started', { set: { owner: null, started_at: new Date().toISOString(), error: '', oom_killed: 0, exit_code: 0 } });
    } catch (err) {
      const exitCode = err instanceof BerthError ? err.exitStatus : 125;
      await releaseRuntime(this, id).catch(() => {});
      transition(this, id, previous === 'created' ? 'startFailed' : 'restartFailed', {
        set: { owner: null, pid: 0, exit_code: exitCode, error: err instanceof Error ? err.message : String(err) },
      });
      // As Docker's daemon: a --rm container that cannot start is removed.
      if (body.HostConfig?.AutoRemove
        && (transition(this, id, 'claimRemoval', { from: 'created', set: { owner: selfOwner() } }) || transition(this, id, 'claimRemoval', { from: 'exited', set: { owner: selfOwner() } }))) {
        await this.purgeContainer(id, true).catch(() => {});
      }
      throw err;
    }
    return this.container(id);
  }

  /** `stop`: the stop signal, then SIGKILL after the timeout; the restart policy does not bring it back. */
  async stopContainer(idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<ContainerInfo> {
    const info = await this.container(idOrName);
    this.db.prepare('UPDATE containers SET stopped_by_user = 1 WHERE id = ?').run(info.id);
    if (info.state.Status === 'restarting') {
      transition(this, info.id, 'cancelRestart', { set: { owner: null } });
      return this.container(info.id);
    }
    if (!info.state.Running) return info;
    const timeout = opts.timeout ?? info.body.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    const signal = opts.signal ?? info.body.StopSignal ?? this.imageStopSignal(info) ?? 'SIGTERM';
    this.signal(info, signal);
    if (!(timeout < 0 ? await this.waitStopped(info.id, Infinity) : await this.waitStopped(info.id, timeout * 1000))) {
      this.signal(info, 'SIGKILL', true);
      await this.waitStopped(info.id, 10_000);
    }
    this.containerEvent(info.id, 'stop');
    return this.container(info.id);
  }

  /** Record a container event that goes with no change of its record (kill, stop, pause…). */
  private containerEvent(id: string, action: string, attributes: Record<string, string> = {}): void {
    const row = rowById(this, id);
    if (row) recordEvents(this, [containerEvent(this, row, action, attributes)]);
  }

  private imageStopSignal(info: ContainerInfo): string | undefined {
    try {
      return this.imageRunConfig(this.image(info.imageId)).StopSignal;
    } catch {
      return undefined;
    }
  }

  /** Send a signal; a paused container is thawed after, so that it can act on it. */
  private signal(info: ContainerInfo, signal: string | number, all = false): void {
    const n = signalNumber(signal);
    try {
      this.runtime.kill(info.id, n, all);
      this.containerEvent(info.id, 'kill', { signal: String(n) });
      if (info.state.Paused) this.runtime.resume(info.id);
    } catch (err) {
      if (!(err instanceof BerthError && err.kind === 'conflict')) throw err;
    }
  }

  /** `kill`: a signal (default SIGKILL) to a running container. */
  async killContainer(idOrName: string, signal = 'SIGKILL'): Promise<ContainerInfo> {
    // A bad signal is the user's error whatever the container's state.
    const n = signalNumber(signal);
    const info = await this.container(idOrName);
    if (!info.state.Running) throw conflict('NotRunning', `cannot kill container: ${idOrName}: container ${info.id} is not running`);
    // As Docker: an explicit SIGKILL is a stop the restart policy respects.
    if (n === 9) this.db.prepare('UPDATE containers SET stopped_by_user = 1 WHERE id = ?').run(info.id);
    this.signal(info, n);
    return info;
  }

  async restartContainer(idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<ContainerInfo> {
    const info = await this.stopContainer(idOrName, opts);
    const started = await this.startContainer(info.id);
    this.containerEvent(info.id, 'restart');
    return started;
  }

  async pauseContainer(idOrName: string): Promise<void> {
    const info = await this.container(idOrName);
    if (info.state.Paused) throw conflict('AlreadyPaused', `cannot pause container ${info.id}: container is already paused`);
    if (!info.state.Running) throw conflict('NotRunning', `cannot pause container ${info.id}: container is not running`);
    this.runtime.pause(info.id);
    this.containerEvent(info.id, 'pause');
  }

  async unpauseContainer(idOrName: string): Promise<void> {
    const info = await this.container(idOrName);
    if (!info.state.Paused) throw conflict('NotPaused', `cannot unpause container ${info.id}: container is not paused`);
    this.runtime.resume(info.id);
    this.containerEvent(info.id, 'unpause');
  }

  /**
   * Wakeups for a wait on one container: an event committed by any process,
   * or a change in its runtime state (the monitor writes the exit file there
   * before the exit hook even starts), with a slow poll behind both.
   */
  private containerWakeups(id: string): Wakeups & { watchRuntime: () => void } {
    const wakeups = new Wakeups(this.runRoot) as Wakeups & { watchRuntime: () => void };
    // Its runtime state exists only while it runs: watched once it does.
    wakeups.watchRuntime = () => wakeups.watchOnce(this.runtime.state.dir(id));
    return wakeups;
  }

  /** Wait until the container is not running (or the time is up): true if it stopped. */
  async waitStopped(id: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    const wakeups = this.containerWakeups(id);
    try {
      for (;;) {
        wakeups.watchRuntime();
        const row = rowById(this, id);
        if (!row) return true;
        const settled = await reconcile(this, row);
        if (!settled || !['running', 'starting'].includes(settled.status)) return true;
        if (Date.now() >= until) return false;
        await wakeups.next(until - Date.now());
      }
    } finally {
      wakeups.close();
    }
  }

  /** Wait until the container's record is gone (another process is removing it). */
  async waitRemoved(id: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    const wakeups = new Wakeups(this.runRoot);
    try {
      for (let row = rowById(this, id); row; row = rowById(this, id)) {
        if (!(await reconcile(this, row))) return true;
        if (Date.now() >= until) return false;
        await wakeups.next(until - Date.now());
      }
      return true;
    } finally {
      wakeups.close();
    }
  }

  /**
   * `wait`: block until the container stops; its exit code. With
   * 'next-exit' a stopped container is waited for its next run; with
   * 'removed', until it is gone. Woken by its events and its exit, not by polling.
   */
  async waitContainer(idOrName: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<number> {
    let info = await this.container(idOrName);
    const id = info.id;
    const wakeups = this.containerWakeups(id);
    try {
      // A run that ends is a next exit: seen running, or started since the wait began.
      let seenRunning = info.state.Running;
      const startedBefore = info.state.StartedAt;
      for (;;) {
        wakeups.watchRuntime();
        const row = rowById(this, id);
        if (!row) {
          if (condition === 'removed') return info.state.ExitCode;
          throw notFound('ContainerNotFound', `No such container: ${idOrName}`);
        }
        const settled = await reconcile(this, row);
        if (!settled) return info.state.ExitCode;
        info = infoOf(this, settled);
        if (info.state.Running) seenRunning = true;
        const stopped = ['exited', 'created'].includes(settled.status);
        const done = condition === 'not-running' ? stopped : condition === 'next-exit' ? settled.status === 'exited' && (seenRunning || info.state.StartedAt !== startedBefore) : false;
        if (done) return info.state.ExitCode;
        await wakeups.next();
      }
    } finally {
      wakeups.close();
    }
  }

  /** `rm`: remove a stopped container (`force`: kill it first); `volumes`: its anonymous volumes too. */
  async removeContainer(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<string> {
    let info = await this.container(idOrName);
    let row: ContainerRow | undefined;
    // A forced removal outlasts a start in progress (its restart policy's, most
    // often): stopped_by_user keeps any later restart away, and once the
    // start is over the process is killed like any running one.
    for (let waited = 0; ; waited += 100) {
      if (info.state.Running || info.state.Restarting) {
        if (!opts.force) {
          throw conflict('ContainerRunning', `cannot remove container "/${info.name}": container is ${info.state.Paused ? 'paused' : info.state.Status}: stop the container before removing or force remove`);
        }
        this.db.prepare('UPDATE containers SET stopped_by_user = 1 WHERE id = ?').run(info.id);
        if (info.state.Running) {
          this.signal(info, 'SIGKILL', true);
          await this.waitStopped(info.id, 10_000);
        }
      }
      row = rowById(this, info.id);
      if (!row) return info.id;
      const busy = (row.status === 'creating' || row.status === 'starting') && ownerAlive(row.owner);
      if (!busy) break;
      if (!opts.force || row.status === 'creating' || waited >= 10_000) {
        throw conflict('InvalidState', `cannot remove container "/${info.name}": it is being ${row.status === 'creating' ? 'created' : 'started'}; try again`);
      }
      this.db.prepare('UPDATE containers SET stopped_by_user = 1 WHERE id = ?').run(info.id);
      await new Promise((r) => setTimeout(r, 100));
      info = await this.container(info.id);
    }
    if (!transition(this, info.id, 'claimRemoval', { from: row.status, set: { owner: selfOwner() } })) {
      throw conflict('InvalidState', `cannot remove container "/${info.name}": it changed state meanwhile; try again`);
    }
    await this.purgeContainer(info.id, opts.volumes ?? false);
    return info.id;
  }

  /** Everything of a container, gone: runtime state, mounts, volumes' use, directory, record. */
  async purgeContainer(id: string, removeVolumes = true): Promise<void> {
    await releaseRuntime(this, id);
    const dir = this.containerDir(id);
    releaseContainerVolumes(this, id, removeVolumes);
    forgetHealth(this, id);
    rmSync(dir, { recursive: true, force: true });
    rmSync(this.attachSocket(id), { force: true });
    // Docker reports the removal of a container it had reported created.
    if (!transition(this, id, 'destroy')) transition(this, id, 'discard');
  }

  /**
   * The exit hook (`berth internal exited <id>`), run by the container's
   * monitor once it has written the exit file: settle the record, then
   * remove the container (--rm) or apply its restart policy.
   */
  async containerExited(id: string, token?: string): Promise<void> {
    const before = rowById(this, id);
    // The hook of an earlier run, come late: this run is not its to settle.
    if (!before || (token !== undefined && before.run_token !== token)) return;
    // The attached `run --rm` and the hook both come: the first does it.
    if (token !== undefined && !claimExit(this.runRoot, id, token)) return;
    let row = await settleExit(this, id);
    if (!row || row.status !== 'exited') return;
    const body = JSON.parse(row.body) as CreateBody;
    const hc = body.HostConfig ?? {};
    if (hc.AutoRemove) {
      if (transition(this, id, 'claimRemoval', { from: 'exited', set: { owner: selfOwner() } })) {
        await this.purgeContainer(id, true);
      }
      return;
    }
    const policy = hc.RestartPolicy ?? { Name: 'no' };
    const exitCode = row.exit_code ?? 0;
    const wanted = row.stopped_by_user === 0 && (
      policy.Name === 'always' || policy.Name === 'unless-stopped'
      || (policy.Name === 'on-failure' && exitCode !== 0 && (!policy.MaximumRetryCount || row.restart_count < policy.MaximumRetryCount)));
    if (!wanted) return;
    // Docker's back-off: 100 ms, doubling with each restart in a row, at
    // most a minute; a container that ran 10 s or more starts over at 100 ms.
    const ran = Date.parse(row.finished_at ?? '') - Date.parse(row.started_at ?? '');
    const streak = ran >= 10_000 ? 0 : row.restart_streak;
    const delay = Math.min(100 * 2 ** Math.min(streak, 10), 60_000);
    if (!transition(this, id, 'scheduleRestart', {
      expect: { stopped_by_user: 0 },
      set: (before) => ({ owner: selfOwner(), restart_count: before.restart_count + 1, restart_streak: streak + 1 }),
    })) return;
    await new Promise((r) => setTimeout(r, delay));
    row = rowById(this, id);
    // A stop, rm or start meanwhile takes precedence.
    if (!row || row.status !== 'restarting' || row.owner !== selfOwner()) return;
    if (!transition(this, id, 'relaunch', { expect: { owner: selfOwner() } })) return;
    await this.launch({ ...row, status: 'restarting' }, {});
  }

  /**
   * An attached `run --rm` has seen its container end: it settles the exit
   * and removes the container itself, as the hook would, and the hook that
   * comes after finds the run handled before it loads the engine. Returns
   * once the container is gone, whoever removed it.
   */
  async settleOwnExit(id: string): Promise<void> {
    const row = rowById(this, id);
    if (row?.run_token) await this.containerExited(id, row.run_token);
    await this.waitRemoved(id, 10_000);
  }

  async renameContainer(idOrName: string, newName: string): Promise<void> {
    if (!NAME_PATTERN.test(newName)) throw invalid('InvalidName', `Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const info = await this.container(idOrName);
    const name = newName.replace(/^\//, '');
    if (name === info.name) throw invalid('SameName', `Renaming a container with the same name as its current name`);
    try {
      changeRecord(this, info.id, 'rename', (before) => ({ columns: { name }, attributes: { oldName: `/${before.name}` } }));
    } catch (err) {
      if (/UNIQUE constraint failed/.test(String(err))) throw conflict('NameInUse', `Error when allocating new name: Conflict. The container name "/${name}" is already in use`);
      throw err;
    }
  }

  /** Change a container's stored create body in one transaction (`update`). */
  async updateContainerBody(idOrName: string, mutate: (body: CreateBody) => void): Promise<ContainerInfo> {
    const { id } = await this.container(idOrName);
    const changed = changeRecord(this, id, 'update', (row) => {
      const body = JSON.parse(row.body) as CreateBody;
      mutate(body);
      return { columns: { body: JSON.stringify(body) } };
    });
    if (!changed) throw notFound('ContainerNotFound', `No such container: ${idOrName}`);
    return this.container(id);
  }

  /** Run `fn` with the container's rootfs mounted; a mount made for it is undone after. */
  async withRootfs<T>(id: string, fn: (rootfs: string) => Promise<T> | T): Promise<T> {
    const row = rowById(this, id);
    if (!row) throw notFound('ContainerNotFound', `No such container: ${id}`);
    const dir = this.containerDir(id);
    const rootfs = containerPaths(dir, id).rootfs;
    if (isMountPoint(rootfs)) return fn(rootfs);
    const image = this.image(row.image_id);
    this.mountImageRootfs(image, dir);
    try {
      return await fn(rootfs);
    } finally {
      // The container may have been started meanwhile: its mount is its own then.
      const now = rowById(this, id);
      if (!now || !LIVE_STATUSES.includes(now.status)) unmountRootfs(dir);
    }
  }

  /**
   * `exec`: another process in a running container, in all of its
   * namespaces and its cgroup; the user is resolved in the container's own
   * passwd and group files. A handle on it once it runs: its pid, wait,
   * kill, resize; `inspectExec` finds it from any process while it runs.
   */
  async execInContainer(idOrName: string, opts: {
    cmd: string[]; env?: string[]; user?: string; workdir?: string; tty?: boolean; detach?: boolean;
    stdio?: ExecOptions['stdio']; openStdin?: boolean; detachKeys?: string; keep?: boolean;
  }): Promise<ExecHandle> {
    const info = await this.container(idOrName);
    if (!info.state.Running) throw conflict('NotRunning', `container ${info.id} is not running`);
    if (info.state.Paused) throw conflict('Paused', `container ${info.id} is paused, unpause the container before exec`);
    if (opts.cmd.length === 0) throw invalid('NoCommand', 'exec: no command given');
    if (opts.workdir !== undefined && !opts.workdir.startsWith('/')) throw invalid('InvalidWorkdir', `the working directory '${opts.workdir}' is invalid, it needs to be an absolute path`);
    const rootfs = containerPaths(info.dir, info.id).rootfs;
    const user = opts.user !== undefined ? resolveUser(rootfs, opts.user) : undefined;
    const handle = await this.runtime.exec({
      // Another user's exec has that user's HOME, as runc gives it, unless one is asked for.
      id: info.id, args: opts.cmd, env: [...(opts.tty ? ['TERM=xterm'] : []), ...(user ? [`HOME=${user.home}`] : []), ...(opts.env ?? [])],
      ...(opts.workdir !== undefined ? { cwd: opts.workdir } : {}),
      ...(user ? { user } : {}), tty: opts.tty ?? false, detach: opts.detach ?? false, keep: opts.keep ?? false,
      ...(opts.stdio ? { stdio: opts.stdio } : {}),
      annotations: execAnnotations({
        openStdin: opts.openStdin ?? false, openStdout: !opts.detach, openStderr: !opts.detach,
        privileged: false, user: opts.user ?? '', detachKeys: opts.detachKeys ?? '',
      }),
    });
    // Docker's actions name the command; create and start are one step here.
    const command = opts.cmd.join(' ');
    this.containerEvent(info.id, `exec_create: ${command}`, { execID: handle.id });
    this.containerEvent(info.id, `exec_start: ${command}`, { execID: handle.id });
    // Its end is seen by whoever waits for it: this process, unless detached.
    if (!opts.detach) {
      handle.wait().then((exit) => this.containerEvent(info.id, 'exec_die', { execID: handle.id, exitCode: String(exit.status) }), () => {});
    }
    return handle;
  }

  /** Docker's exec inspect, for an exec started by any process, while its container runs. */
  inspectExec(execId: string): ExecInspect {
    return execInspect(this.runtime.execState(execId), execId);
  }

  /** `container prune`: every stopped container. */
  async pruneContainers(): Promise<string[]> {
    const removed: string[] = [];
    for (const c of await this.listContainers()) {
      if (c.state.Status !== 'exited' && c.state.Status !== 'created') continue;
      try {
        removed.push(await this.removeContainer(c.id, { volumes: false }));
      } catch (err) {
        if (!(err instanceof BerthError)) throw err;
      }
    }
    return removed;
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
