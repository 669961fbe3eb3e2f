// The OCI runtime's verbs: create, start, state, kill, delete, and run and
// exec built from them. Each verb loads the container's record, derives its
// status, checks the guard, then acts. The container process itself is
// started by the native helper from a plan (builder.ts), and the helper stays
// behind as its monitor.
import { spawn, type StdioOptions, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, openSync, writeSync, closeSync, constants as fsConstants, unlinkSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { BerthError, invalid, conflict, systemError, errnoCode } from '../util/errors.js';
import { debug, channels } from '../util/debug.js';
import { loadSpec, type Spec, type SpecProcess } from './spec.js';
import { buildPlan, type BuiltPlan, type MonitorPlanOptions } from './builder.js';
import { isProcfs } from './mounts.js';
import { encodePlan, type PlanOp } from './plan.js';
import { describePlan } from './plan-text.js';
import { currentHardLimits, canRaiseHardLimits } from './rlimits.js';
import { cgroupManager, cgroupV1Mounts, isRelativeCgroupsPath, ownCgroups, type AnyCgroupManager, type CgroupManager, type LinuxResources } from './cgroups/index.js';
import { compileSeccomp } from './seccomp/compile.js';
import { checkExecutable } from './executable.js';
import { NS_PROC_NAME } from './namespaces.js';
import { mergeEnv } from './env.js';
import { ExecHandle, execPaths, execState, forgetExec, makeExecsDir, saveExecRecord, type ExecState } from './exec.js';
import {
  StateDir, type ContainerRecord, type Status, type ExitInfo, EXIT_FILE, START_FIFO,
  isAlive, processStartTime, guard, canStart, canKill, canDelete, canPause, canResume, parseExitLine,
} from './state.js';
import { withDefaultDeviceRules } from './defaults.js';
import { escapeControls } from '../util/terminal-text.js';
import { writeFileAtomic } from '../util/fs.js';

export const DEFAULT_RUNTIME_ROOT = '/run/berth/runtime';
/** In a container's state directory: the plan its monitor's healthcheck probes run (an exec's plan, made once its pid is known). */
const PROBE_PLAN = 'probe.plan';

/**
 * What the monitor of a detached container does besides reaping it: keep
 * its output (Docker's json-file log), serve attach clients, call the
 * engine back when it ends, and run its healthcheck.
 */
export type MonitorOptions = MonitorPlanOptions;

/** The helper binary: native/berth-helper in the package, or $BERTH_HELPER. */
export function helperPath(): string {
  if (process.env.BERTH_HELPER) return process.env.BERTH_HELPER;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'native', 'berth-helper');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw systemError('HelperMissing', 'native/berth-helper not found: run `npm run setup` (it builds the helper)');
}

let lastCapCache: number | undefined;
function lastCap(): number {
  lastCapCache ??= Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  return lastCapCache;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw invalid('InvalidSpec', `mount source ${path} does not exist`);
    throw err;
  }
}

/**
 * Compiling Docker's profile takes milliseconds on every start; a process
 * that starts many containers (the engine, the API server, the benchmark)
 * compiles each distinct profile once.
 */
const compiledSeccomp = new Map<string, { program: Buffer; flags: number }>();

export interface PrepareOptions {
  id: string;
  bundle: string;
  stateDir?: string;
  consoleSocket?: string;
  relayTerminal?: boolean;
  forwardSignals?: boolean;
  withStartFifo?: boolean;
  /** runc's contract: the caller's subreaper becomes the process's parent (BuildContext.handOff). */
  handOff?: boolean;
  pidFile?: string;
  /** For `exec`: the running container whose namespaces to join. */
  joinPid?: number;
  /** For `exec`: its id, which names its exit file. */
  execId?: string;
  cgroupsPath?: string;
  /** For a relative cgroupsPath: the parents create read (ContainerRecord.cgroupParents). */
  cgroupParents?: Record<string, string>;
  monitor?: MonitorOptions;
}

export interface Prepared {
  spec: Spec;
  plan: BuiltPlan;
  cgroup: CgroupManager | undefined;
  cgroupsPath: string;
  cgroupParents: Record<string, string> | undefined;
}

/**
 * Everything up to the plan: validate the bundle, compile seccomp, and build
 * the plan. The cgroup is described but not created, so `plan` can show it.
 */
export function prepare(opts: PrepareOptions, specOverride?: Spec): Prepared {
  const bundle = resolve(opts.bundle);
  const spec = specOverride ?? loadSpec(bundle);
  const rootfs = resolve(bundle, spec.root.path);
  if (!existsSync(rootfs)) throw invalid('InvalidSpec', `root.path: ${rootfs} does not exist`);
  if (!statSync(rootfs).isDirectory()) throw invalid('InvalidSpec', `root.path: ${rootfs} is not a directory`);
  if (spec.process && !opts.joinPid) checkExecutable(rootfs, spec.process.args[0]!, spec.process.env ?? [], spec.mounts ?? []);

  const cgroupsPath = opts.cgroupsPath ?? spec.linux?.cgroupsPath ?? `/berth/${opts.id}`;
  // A relative path's parents are read now and kept in the record.
  const cgroupParents = opts.cgroupParents ?? (isRelativeCgroupsPath(cgroupsPath) ? Object.fromEntries(ownCgroups()) : undefined);
  const cgroup = cgroupManager(cgroupsPath, { parents: cgroupParents && new Map(Object.entries(cgroupParents)) });
  const seccompSpec = spec.linux?.seccomp;
  let seccomp: { program: Buffer; flags: number; summary: string } | undefined;
  if (seccompSpec) {
    const key = JSON.stringify(seccompSpec);
    let compiled = compiledSeccomp.get(key);
    if (!compiled) {
      compiled = compileSeccomp(seccompSpec);
      compiledSeccomp.set(key, compiled);
    }
    const rules = seccompSpec.syscalls?.length ?? 0;
    seccomp = { ...compiled, summary: `default ${seccompSpec.defaultAction}${seccompSpec.defaultErrnoRet !== undefined ? ` (errno ${seccompSpec.defaultErrnoRet})` : ''}, ${rules} rule${rules === 1 ? '' : 's'}` };
  }

  let planSpec = spec;
  if (opts.joinPid) {
    // exec: the same process rules, inside every namespace of the container.
    planSpec = {
      ...spec,
      linux: {
        ...spec.linux,
        namespaces: (spec.linux?.namespaces ?? []).map((ns) => ({ type: ns.type, path: `/proc/${opts.joinPid}/ns/${NS_PROC_NAME[ns.type]}` })),
        uidMappings: undefined,
        gidMappings: undefined,
      },
    };
  }
  const plan = buildPlan(planSpec, {
    bundle,
    exitFile: opts.stateDir ? (opts.execId ? execPaths(opts.stateDir, opts.execId).exit : join(opts.stateDir, EXIT_FILE)) : undefined,
    pidFile: opts.pidFile ? resolve(opts.pidFile) : undefined,
    startFifo: opts.withStartFifo && opts.stateDir ? join(opts.stateDir, START_FIFO) : undefined,
    consoleSocket: opts.consoleSocket ? resolve(opts.consoleSocket) : undefined,
    relayTerminal: opts.relayTerminal,
    forwardSignals: opts.forwardSignals,
    handOff: opts.handOff,
    monitor: opts.monitor,
    cgroup: {
      procsFiles: cgroup.procsFiles(), path: cgroupsPath, version: cgroup.version, freezer: cgroup.freezerState(),
      ...(cgroupParents && cgroup.version === 1 ? { mounts: cgroupV1Mounts() } : {}),
    },
    probePlanFile: opts.stateDir && opts.monitor?.healthcheck ? join(opts.stateDir, PROBE_PLAN) : undefined,
    seccomp,
    lastCap: lastCap(),
    hardLimits: currentHardLimits(),
    canRaiseHardLimits: canRaiseHardLimits(),
    isDirectory,
    isProcfs,
    joinExisting: opts.joinPid !== undefined,
  });
  return { spec, plan, cgroup, cgroupsPath, cgroupParents };
}

/** `berth runtime plan`: the plan in words, as `create` would run it, without running anything. */
export function planText(bundle: string, root = DEFAULT_RUNTIME_ROOT, id = '<id>'): string {
  const spec = loadSpec(resolve(bundle));
  const { plan, cgroup } = prepare(
    { id, bundle, stateDir: join(root, id), withStartFifo: true, consoleSocket: spec.process?.terminal ? '<console socket>' : undefined },
    spec,
  );
  return describePlan(plan.ops, { cgroup: cgroup?.describe(withDefaultDeviceRules(spec.linux?.resources)), warnings: plan.warnings });
}

/** A line-oriented reader of the helper's report channel (fd 4). */
class ReportReader {
  private buffer = '';
  private waiters: ((line: string | undefined) => void)[] = [];
  private lines: string[] = [];
  private ended = false;
  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
    });
    stream.on('end', () => this.end());
    stream.on('error', () => this.end());
  }
  private push(line: string): void {
    debug('helper report: %s', line);
    const waiter = this.waiters.shift();
    if (waiter) waiter(line);
    else this.lines.push(line);
  }
  private end(): void {
    if (this.buffer) this.push(this.buffer);
    this.buffer = '';
    this.ended = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }
  next(): Promise<string | undefined> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolveLine) => this.waiters.push(resolveLine));
  }
}

/** Turn a failure line from the helper into an error the user understands. */
function reportError(line: string | undefined, stderrText: string): BerthError {
  if (line?.startsWith('exec-failed ')) {
    const [, errno, ...file] = line.split(' ');
    const name = file.join(' ');
    if (Number(errno) === 2) return new BerthError('commandNotFound', 'ExecNotFound', `exec: "${name}": executable file not found`);
    return new BerthError('cannotExecute', 'ExecFailed', `exec: "${name}": ${errnoText(Number(errno))}`);
  }
  if (line?.startsWith('error ')) {
    const m = /^error (-?\d+) (\d+) (\S+) ?(.*)$/.exec(line);
    if (m) {
      const where = Number(m[1]) < 0 ? 'reading the plan' : `step ${Number(m[1]) + 1} (${m[3]})`;
      return systemError('PlanStepFailed', `container setup failed at ${where}: ${m[4] || errnoText(Number(m[2]))} (errno ${m[2]})`);
    }
    return systemError('PlanStepFailed', `container setup failed: ${line.slice(6)}`);
  }
  return systemError('HelperFailed', `the container's monitor ended unexpectedly${stderrText ? `: ${stderrText.trim()}` : ''}`);
}

/** What a helper's failure line (`exec-failed …`, `error …`; undefined: it said nothing) means, as `exec` would say it. */
export function helperFailureMessage(line: string | undefined): string {
  return reportError(line, '').message;
}

const ERRNO_TEXT: Record<number, string> = { 1: 'operation not permitted', 2: 'no such file or directory', 13: 'permission denied', 8: 'exec format error', 20: 'not a directory', 21: 'is a directory' };
function errnoText(errno: number): string {
  return ERRNO_TEXT[errno] ?? `errno ${errno}`;
}

export interface StartedProcess {
  pid: number;
  monitor: ChildProcess;
  /** Resolves with the exit status when the process ends (attached runs only). */
  exit: Promise<ExitInfo>;
}

export interface SpawnOptions {
  stdio?: [StdioOptions | 'inherit' | 'ignore' | 'pipe', unknown, unknown] | 'inherit' | 'ignore' | 'pipe';
  /** The monitor outlives this Node process. */
  detach: boolean;
  warn?: (message: string) => void;
}

type StdioEntry = 'inherit' | 'ignore' | 'pipe' | number | Readable | Writable | null | undefined;

/** Start the helper with a plan; resolve when the process waits to start (or fail). */
async function launch(ops: PlanOp[], stdio: StdioEntry[], detach: boolean): Promise<{ pid: number; monitor: ChildProcess; reports: ReportReader; stderr: () => string }> {
  const monitor = spawn(helperPath(), [], {
    stdio: [...stdio.slice(0, 3), 'pipe', 'pipe'] as StdioOptions,
    detached: detach,
  });
  const planPipe = monitor.stdio[3] as Writable;
  const reports = new ReportReader(monitor.stdio[4] as Readable);
  let stderrText = '';
  if (stdio[2] === 'pipe' && monitor.stderr) {
    // Keep the tail for error messages; the caller still reads the stream.
    monitor.stderr.on('data', (d: Buffer) => { stderrText = (stderrText + d.toString()).slice(-4096); });
  }
  const spawnError = new Promise<never>((_, reject) => monitor.once('error', (err) => reject(systemError('HelperSpawn', `cannot start ${helperPath()}: ${err.message}`, err))));
  planPipe.on('error', () => { /* the helper died; the report says why */ });
  planPipe.end(encodePlan(ops));
  const first = await Promise.race([reports.next(), spawnError]);
  if (!first?.startsWith('created ')) {
    await new Promise((r) => (monitor.exitCode !== null || monitor.signalCode !== null ? r(undefined) : monitor.once('exit', r)));
    throw reportError(first, stderrText);
  }
  return { pid: Number(first.slice(8)), monitor, reports, stderr: () => stderrText };
}

async function waitExit(reports: ReportReader, monitor: ChildProcess, stderr: () => string): Promise<ExitInfo> {
  for (;;) {
    const line = await reports.next();
    if (line === undefined) {
      const code = await new Promise<number | null>((r) => (monitor.exitCode !== null ? r(monitor.exitCode) : monitor.once('exit', (c) => r(c))));
      throw reportError(undefined, stderr() || `monitor exit status ${code}`);
    }
    if (line.startsWith('exec-failed ') || line.startsWith('error ')) {
      throw reportError(line, stderr());
    }
    const info = parseExitLine(line);
    if (info) return info;
  }
}

/**
 * A monitor runs in its own session, so a terminal's Ctrl-C, a kill of this
 * command or a window change reaches only us: pass each on, as `docker run`
 * does. The handlers go in before the monitor exists, so that no signal can
 * end this command and orphan a process that is already running; one that
 * arrives before the monitor is known is sent as soon as it is.
 */
function forwardSignals(): { to(monitor: ChildProcess): void; stop(): void } {
  let monitor: ChildProcess | undefined;
  const pending: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals) => {
    if (!monitor) pending.push(sig);
    else try { monitor.kill(sig); } catch { /* gone */ }
  };
  const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  for (const s of forwarded) process.on(s, forward);
  return {
    to(m) {
      monitor = m;
      for (const sig of pending.splice(0)) forward(sig);
    },
    stop() {
      for (const s of forwarded) process.off(s, forward);
    },
  };
}

/** A container's cgroup, where create found it (a relative path with the parents it had then). */
export function cgroupOf(record: Pick<ContainerRecord, 'cgroupsPath' | 'cgroupVersion' | 'cgroupParents'>): AnyCgroupManager {
  return cgroupManager(record.cgroupsPath, {
    version: record.cgroupVersion,
    ...(record.cgroupParents ? { parents: new Map(Object.entries(record.cgroupParents)) } : {}),
  });
}

export class Runtime {
  readonly state: StateDir;
  constructor(readonly root: string = DEFAULT_RUNTIME_ROOT) {
    this.state = new StateDir(root);
  }

  /**
   * `create`: everything up to the process waiting for `start`. With
   * `handOff` (the runtime command line, as engines drive runc) no monitor
   * stays: the process becomes the child of the caller's subreaper, with the
   * caller's stdio, and that reaper alone sees its exit status.
   */
  async create(opts: {
    id: string; bundle: string; pidFile?: string; consoleSocket?: string; stdio?: StdioEntry[]; detach?: boolean; handOff?: boolean;
    warn?: (m: string) => void; monitor?: MonitorOptions;
  }): Promise<ContainerRecord> {
    // A monitor that keeps the log owns the container's stdio: it is handed
    // none of ours, so nothing ties it (or us) to the other.
    const stdio = opts.monitor?.logFile ? ['ignore', 'ignore', 'ignore'] as StdioEntry[] : opts.stdio;
    const { record, launched } = await this.createInternal({ ...opts, stdio, withStartFifo: true, detach: opts.detach ?? true });
    if (opts.detach ?? true) {
      // The monitor lives on without us; it ignores a closed report channel.
      launched.monitor.unref();
      (launched.monitor.stdio[4] as Readable).destroy();
    }
    return record;
  }

  private async createInternal(opts: {
    id: string; bundle: string; pidFile?: string; consoleSocket?: string; stdio?: StdioEntry[]; detach: boolean; handOff?: boolean;
    withStartFifo: boolean; relayTerminal?: boolean; forwardSignals?: boolean; warn?: (m: string) => void; monitor?: MonitorOptions;
  }): Promise<{ record: ContainerRecord; launched: Awaited<ReturnType<typeof launch>>; cgroup: CgroupManager }> {
    const dir = this.state.reserve(opts.id);
    let cgroup: CgroupManager | undefined;
    let monitor: ChildProcess | undefined;
    try {
      const prepared = prepare({ ...opts, stateDir: dir });
      for (const w of prepared.plan.warnings) (opts.warn ?? ((m) => process.stderr.write(`berth: warning: ${escapeControls(m)}\n`)))(w);
      cgroup = prepared.cgroup!;
      cgroup.create(withDefaultDeviceRules(prepared.spec.linux?.resources));
      channels.containerCreate.publish({ id: opts.id });
      const stdio = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
      const launched = await launch(prepared.plan.ops, stdio, opts.detach);
      monitor = launched.monitor;
      // Before start, so before the monitor's first probe: it reads this file at each one.
      if (opts.monitor?.healthcheck) {
        const probe = prepare({ id: opts.id, bundle: opts.bundle, joinPid: launched.pid, cgroupsPath: prepared.cgroupsPath }, execSpec(prepared.spec, prepared.cgroupsPath, { args: opts.monitor.healthcheck.command }));
        writeFileAtomic(join(dir, PROBE_PLAN), encodePlan(probe.plan.ops), 0o600);
      }
      const record: ContainerRecord = {
        id: opts.id,
        bundle: resolve(opts.bundle),
        rootfs: prepared.plan.rootfs,
        ociVersion: prepared.spec.ociVersion,
        created: new Date().toISOString(),
        pid: launched.pid,
        pidStartTime: processStartTime(launched.pid) ?? '',
        monitorPid: launched.monitor.pid ?? 0,
        monitorStartTime: processStartTime(launched.monitor.pid ?? 0) ?? '',
        cgroupsPath: prepared.cgroupsPath,
        ...(prepared.cgroupParents ? { cgroupParents: prepared.cgroupParents } : {}),
        cgroupVersion: cgroup.version,
        annotations: prepared.spec.annotations ?? {},
      };
      this.state.save(record);
      return { record, launched, cgroup };
    } catch (err) {
      // Whatever got as far as running goes first, so that the cgroup is empty to remove.
      if (monitor && monitor.exitCode === null) {
        const exited = new Promise((r) => monitor!.once('exit', r));
        monitor.kill('SIGKILL');
        try { cgroup?.kill('SIGKILL'); } catch { /* report the first error */ }
        await exited;
      }
      try { cgroup?.destroy(); } catch { /* report the first error */ }
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** `start`: let a created container run its program. */
  start(id: string): void {
    const record = this.state.load(id);
    guard(canStart(this.status(record)), 'start', id, this.status(record));
    const fifo = join(this.state.dir(id), START_FIFO);
    let fd: number;
    try {
      fd = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === 'ENXIO') throw conflict('MonitorGone', `cannot start container "${id}": its monitor is gone`);
      throw err;
    }
    try {
      writeSync(fd, '0');
    } finally {
      closeSync(fd);
    }
    try { unlinkSync(fifo); } catch { /* a concurrent start got there first */ }
    channels.containerStart.publish({ id });
  }

  status(record: ContainerRecord): Status {
    if (existsSync(join(this.state.dir(record.id), EXIT_FILE))) return 'stopped';
    if (!isAlive(record)) {
      // The process is gone but its monitor has yet to write the exit file
      // (a matter of microseconds): until it has, the exit status is not
      // known, so the container is not reported stopped without it.
      const monitorAlive = record.monitorPid > 0 && processStartTime(record.monitorPid) === record.monitorStartTime;
      return monitorAlive ? 'running' : 'stopped';
    }
    if (existsSync(join(this.state.dir(record.id), START_FIFO))) return 'created';
    if (this.frozen(record)) return 'paused';
    return 'running';
  }

  private frozen(record: ContainerRecord): boolean {
    try {
      return cgroupOf(record).frozen();
    } catch {
      return false;
    }
  }

  /** The runtime spec's state object. */
  stateOf(id: string): OciState {
    const record = this.state.load(id);
    const status = this.status(record);
    const exit = this.state.exitInfo(id);
    return {
      ociVersion: record.ociVersion,
      id,
      status,
      pid: status === 'stopped' ? 0 : record.pid,
      bundle: record.bundle,
      rootfs: record.rootfs,
      created: record.created,
      annotations: record.annotations,
      ...(exit ? { exitStatus: exit.status, finished: exit.finishedAt, ...(exit.signal ? { exitSignal: exit.signal } : {}) } : {}),
      ...(status === 'stopped' && exit?.signal === 9 && this.oomKilled(record) ? { oomKilled: true } : {}),
    };
  }

  private oomKilled(record: ContainerRecord): boolean {
    try {
      return cgroupOf(record).oomKilled();
    } catch {
      return false;
    }
  }

  list(): OciState[] {
    return this.state.ids().map((id) => this.stateOf(id));
  }

  /** `kill`: send a signal to the container's process, or with `all` to every process in its cgroup. */
  kill(id: string, signal: NodeJS.Signals | number = 'SIGTERM', all = false): void {
    const record = this.state.load(id);
    const status = this.status(record);
    guard(canKill(status), 'kill', id, status);
    if (all) {
      cgroupOf(record).kill(signal);
      return;
    }
    try {
      process.kill(record.pid, signal);
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw err;
    }
  }

  /** `ps`: the host pids of every process in the container's cgroup. */
  pids(id: string): number[] {
    const record = this.state.load(id);
    return this.status(record) === 'stopped' ? [] : cgroupOf(record).pids();
  }

  /** `pause`: freeze every process of a running container. */
  pause(id: string): void {
    const record = this.state.load(id);
    const status = this.status(record);
    guard(canPause(status), 'pause', id, status);
    cgroupOf(record).freeze();
  }

  /** `resume`: thaw a paused container. */
  resume(id: string): void {
    const record = this.state.load(id);
    const status = this.status(record);
    guard(canResume(status), 'resume', id, status);
    cgroupOf(record).thaw();
  }

  /** `update`: change the cgroup limits of a container that has not stopped; returns what could not be applied. */
  update(id: string, resources: LinuxResources): string[] {
    const record = this.state.load(id);
    const status = this.status(record);
    if (status === 'stopped') throw conflict('InvalidState', `cannot update container "${id}": it is stopped`);
    const cgroup = cgroupOf(record);
    cgroup.update(resources);
    return [...cgroup.warnings];
  }

  /** `delete`: remove a stopped container (with `force`, stop it first). */
  async delete(id: string, force = false, opts: { cgroupsPath?: string } = {}): Promise<void> {
    let record: ContainerRecord;
    try {
      record = this.state.load(id);
    } catch (err) {
      // A half-created container (its creator was killed before it wrote the
      // record) can still be removed by force. Its process may already be in
      // its cgroup, waiting to start: given the cgroup, that goes too.
      if (force && err instanceof BerthError && err.kind === 'notFound' && existsSync(this.state.dir(id))) {
        if (opts.cgroupsPath) {
          const cgroup = cgroupManager(opts.cgroupsPath);
          try {
            cgroup.kill('SIGKILL');
          } catch { /* no cgroup yet */ }
          try {
            cgroup.destroy();
          } catch { /* no cgroup yet */ }
        }
        rmSync(this.state.dir(id), { recursive: true, force: true });
        return;
      }
      throw err;
    }
    const cgroup = cgroupOf(record);
    const status = this.status(record);
    if (!canDelete(status)) {
      if (!force) guard(false, 'delete', id, status);
      if (status === 'paused') cgroup.thaw();
      cgroup.kill('SIGKILL');
      await this.waitGone(record);
    }
    // A stopped container's monitor may still be finishing (it writes the exit
    // file, then exits): the host is clean only once it is gone.
    await this.waitGone(record);
    channels.containerDelete.publish({ id });
    cgroup.destroy();
    rmSync(this.state.dir(id), { recursive: true, force: true });
  }

  /** Wait (bounded) until the container's process and monitor are gone. */
  private async waitGone(record: ContainerRecord): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const monitorAlive = record.monitorPid > 0 && processStartTime(record.monitorPid) === record.monitorStartTime;
      if (!isAlive(record) && !monitorAlive) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw systemError('KillTimeout', `container "${record.id}" did not stop within 5s of SIGKILL`);
  }

  /**
   * `run`: create and start attached. The monitor forwards signals, relays a
   * terminal, and the container is deleted when it ends.
   */
  async run(opts: { id: string; bundle: string; stdio?: StdioEntry[]; keep?: boolean; forwardSignals?: boolean; warn?: (m: string) => void }): Promise<RunResult> {
    const forwarding = (opts.forwardSignals ?? true) ? forwardSignals() : undefined;
    try {
      const { record, launched, cgroup } = await this.createInternal({
        ...opts, detach: true, withStartFifo: false, relayTerminal: true, forwardSignals: true,
      });
      forwarding?.to(launched.monitor);
      try {
        const exit = await waitExit(launched.reports, launched.monitor, launched.stderr);
        const oomKilled = exit.signal === 9 && cgroup.oomKilled();
        return { ...exit, oomKilled, id: record.id };
      } finally {
        await new Promise((r) => (launched.monitor.exitCode !== null || launched.monitor.signalCode !== null ? r(undefined) : launched.monitor.once('exit', r)));
        if (!opts.keep) await this.delete(record.id, true);
      }
    } finally {
      forwarding?.stop();
    }
  }


  /** An exec by its id, in whichever container it runs; undefined when none has it. */
  execState(execId: string): ExecState | undefined {
    for (const id of this.state.ids()) {
      const state = execState(this.state.dir(id), execId);
      if (state) return state;
    }
    return undefined;
  }

  /**
   * `exec`: run another process inside a running container; a handle on it
   * once it runs. An attached exec's monitor forwards our signals while it
   * runs, and its record goes when it has been waited for (unless `keep`).
   */
  async exec(opts: ExecOptions): Promise<ExecHandle> {
    const record = this.state.load(opts.id);
    const status = this.status(record);
    if (status !== 'running') throw conflict('InvalidState', `cannot exec in container "${opts.id}": it is ${status}`);
    const spec = execSpec(loadSpec(record.bundle), record.cgroupsPath, opts);
    const execId = randomBytes(32).toString('hex');
    const stateDir = this.state.dir(opts.id);
    makeExecsDir(stateDir);
    const attached = !opts.handOff;
    const prepared = prepare({
      id: opts.id, bundle: record.bundle, stateDir, execId, relayTerminal: attached, forwardSignals: attached, handOff: opts.handOff,
      pidFile: opts.pidFile, consoleSocket: opts.consoleSocket, joinPid: record.pid, cgroupsPath: record.cgroupsPath, cgroupParents: record.cgroupParents,
    }, spec);
    // As `run`: the exec's monitor is in its own session, so Ctrl-C and
    // window changes reach it only through us.
    const forwarding = opts.detach || opts.handOff ? undefined : forwardSignals();
    let launched: Awaited<ReturnType<typeof launch>>;
    try {
      launched = await launch(prepared.plan.ops, opts.stdio ?? ['inherit', 'inherit', 'inherit'], true);
    } catch (err) {
      forwarding?.stop();
      throw err;
    }
    forwarding?.to(launched.monitor);
    const execRecord = {
      id: execId,
      containerId: opts.id,
      pid: launched.pid,
      pidStartTime: processStartTime(launched.pid) ?? '',
      monitorPid: launched.monitor.pid ?? 0,
      monitorStartTime: processStartTime(launched.monitor.pid ?? 0) ?? '',
      args: spec.process!.args,
      user: { uid: spec.process!.user?.uid ?? 0, gid: spec.process!.user?.gid ?? 0 },
      tty: spec.process!.terminal ?? false,
      created: new Date().toISOString(),
      annotations: opts.annotations ?? {},
    };
    saveExecRecord(stateDir, execRecord);
    if (opts.detach || opts.handOff) {
      // `exec -d`: the process runs on under its own monitor, which writes its
      // exit file; handed off, under the caller's subreaper.
      launched.monitor.unref();
      (launched.monitor.stdio[4] as Readable).destroy();
      return new ExecHandle(stateDir, execRecord, undefined);
    }
    const exited = (async () => {
      try {
        return await waitExit(launched.reports, launched.monitor, launched.stderr);
      } finally {
        forwarding?.stop();
        if (!opts.keep) forgetExec(stateDir, execId);
      }
    })();
    return new ExecHandle(stateDir, execRecord, exited);
  }
}

/**
 * The spec of a process run inside a running container (an exec, a
 * healthcheck probe): the container's own process settings (env, cwd, user,
 * capabilities, seccomp…) with the exec's args and overrides.
 */
function execSpec(spec: Spec, cgroupsPath: string, opts: Pick<ExecOptions, 'args' | 'env' | 'cwd' | 'tty' | 'user' | 'process'>): Spec {
  const proc = spec.process;
  if (!proc) throw invalid('InvalidSpec', 'process: missing');
  return {
    ...spec,
    // runc's exec --process: the caller's whole process object.
    process: opts.process ?? {
      ...proc,
      args: opts.args,
      env: opts.env ? mergeEnv(proc.env ?? [], opts.env) : proc.env,
      cwd: opts.cwd ?? proc.cwd,
      terminal: opts.tty ?? false,
      user: opts.user ? { ...proc.user, ...opts.user } : proc.user,
    },
    linux: { ...spec.linux, cgroupsPath },
  };
}

export interface ExecOptions {
  id: string; args: string[]; env?: string[]; cwd?: string; tty?: boolean;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  stdio?: StdioEntry[];
  /** `exec -d`: start it and return; its monitor alone sees it end. */
  detach?: boolean;
  /** runc's `exec --detach` for another engine: the process is left to the caller's subreaper, which alone sees it end. */
  handOff?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** The whole process (`exec --process`): args, env, cwd, user and terminal as given, instead of the container's with changes. */
  process?: SpecProcess;
  /** Keep the record of an attached exec after its end has been seen (a detached one's stays until the container's state goes). */
  keep?: boolean;
  /** The caller's own facts about the exec, kept in its record. */
  annotations?: Record<string, string>;
}

export interface RunResult extends ExitInfo {
  id: string;
  oomKilled: boolean;
}

export interface OciState {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  annotations: Record<string, string>;
  exitStatus?: number;
  exitSignal?: number;
  finished?: string;
  oomKilled?: boolean;
}

