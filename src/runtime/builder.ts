// From config.json to plan: every decision about a container is made here, in
// order, as plain data. The native helper only carries the steps out. Nothing
// here touches the system, so the whole policy is testable without root.
import { isAbsolute, join, posix } from 'node:path';
import { BugError, invalid } from '../util/errors.js';
import type { Spec, SpecMount, SpecDevice, NamespaceType } from './spec.js';
import type { PlanOp } from './plan.js';
import { MountCreate } from './plan.js';
import { CLONE_FLAGS, NAMESPACE_ORDER } from './namespaces.js';
import { capabilityMask, kernelCapabilityMask } from './capabilities.js';
import { parseMountOptions, procMountProblem, PROPAGATION_OPTIONS, MS, BIND_REMOUNT_FLAGS } from './mounts.js';
import { rlimitNumber, RLIM_INFINITY, type RlimitName } from './rlimits.js';
import { DEFAULT_DEVICES, DEFAULT_DEV_SYMLINKS } from './defaults.js';

/** What the builder needs to know about the host and the container's state. */
export interface BuildContext {
  /** Absolute path of the bundle (relative paths in config.json are resolved against it). */
  bundle: string;
  /** Files the monitor writes, and how it is driven. */
  exitFile?: string;
  pidFile?: string;
  startFifo?: string;
  consoleSocket?: string;
  relayTerminal?: boolean;
  forwardSignals?: boolean;
  /**
   * runc's contract with the engine that runs it: the monitor leaves once the
   * process waits to start, so that the caller's subreaper (a containerd
   * shim, conmon) becomes its parent, reaps it and sees its exit; the process
   * waits on startFifo itself. Nothing then writes exitFile.
   */
  handOff?: boolean;
  /** The monitor keeps the output, serves attach clients, calls the engine back. */
  monitor?: MonitorPlanOptions;
  /** The container's cgroup: the cgroup.procs files to join, one per hierarchy, and its freezer's state. */
  cgroup?: {
    procsFiles: string[]; path: string; version: 1 | 2; freezer?: { file: string; frozen: string };
    /** v1: the hierarchies' mount points, which name the container's directories under /sys/fs/cgroup (needed when the path is relative, so not at a mount's top). */
    mounts?: string[];
  };
  /** Where the probe's plan will be, for a healthcheck (written once the container's pid is known). */
  probePlanFile?: string;
  /** The compiled seccomp program, when the spec asks for one. */
  seccomp?: { program: Buffer; flags: number; summary: string };
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap: number;
  /** This process's hard rlimits, and whether it may raise them (CAP_SYS_RESOURCE). */
  hardLimits: Map<RlimitName, bigint>;
  canRaiseHardLimits: boolean;
  /** Whether a host path is a directory (a bind's target is made to match its source). */
  isDirectory: (hostPath: string) => boolean;
  /** Whether a host path is on a procfs (the one kind of bind runc lets cover /proc). */
  isProcfs: (hostPath: string) => boolean;
  /**
   * For `exec`: join every namespace of a running container (the spec's
   * namespaces must all carry paths) and leave its filesystem, hostname and
   * sysctls as they are.
   */
  joinExisting?: boolean;
}

/** The monitor's part in a detached container (docs/plan-format.md, ops 8-12). */
export interface MonitorPlanOptions {
  /** stdout and stderr (or the terminal's output) in Docker's json-file format. */
  logFile?: string;
  /** A unix socket (path < 108 bytes) where attach clients see output and feed stdin. */
  attachSocket?: string;
  /** stdin stays open for attach clients (needs attachSocket); stdinOnce closes it after the first. */
  openStdin?: boolean;
  stdinOnce?: boolean;
  /** Run once the container has ended (absolute path first). */
  exitCommand?: string[];
  /** A healthcheck the monitor runs itself while the container runs. */
  healthcheck?: HealthcheckOptions;
}

/**
 * A healthcheck as the monitor keeps it (docs/plan-format.md,
 * MONITOR_HEALTHCHECK): Docker's schedule, the probe run inside the
 * container as `exec` runs a command, the results in a file, and a hook run
 * only when the status changes.
 */
export interface HealthcheckOptions {
  /** The probe's argv inside the container. */
  command: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
  /** Rewritten after each probe: the status, the failing streak and the last 5 results. */
  resultsFile: string;
  /** Run (absolute path first) with the new status appended when the status changes. */
  hook: string[];
}

export interface BuiltPlan {
  ops: PlanOp[];
  /** Things the user should know that did not stop the container (clamped rlimits…). */
  warnings: string[];
  /** The absolute root filesystem path. */
  rootfs: string;
}

const SETNS_IN_MONITOR: readonly NamespaceType[] = ['pid', 'network', 'ipc', 'uts', 'time', 'cgroup'];

export function buildPlan(spec: Spec, ctx: BuildContext): BuiltPlan {
  const proc = spec.process;
  if (!proc) throw invalid('InvalidSpec', 'process: missing (nothing to run)');
  const ops: PlanOp[] = [];
  const warnings: string[] = [];
  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : join(ctx.bundle, spec.root.path);
  const linux = spec.linux ?? {};

  // Namespaces: which are new, which are joined.
  const namespaces = new Map<NamespaceType, string | undefined>();
  for (const [i, ns] of (linux.namespaces ?? []).entries()) {
    if (namespaces.has(ns.type)) throw invalid('InvalidSpec', `linux.namespaces[${i}]: duplicate namespace type "${ns.type}"`);
    if (ns.path !== undefined && !isAbsolute(ns.path)) throw invalid('InvalidSpec', `linux.namespaces[${i}].path: must be absolute`);
    namespaces.set(ns.type, ns.path);
  }
  const isNew = (t: NamespaceType) => namespaces.has(t) && namespaces.get(t) === undefined;
  const joined = (t: NamespaceType) => namespaces.get(t);
  const hasMountNs = namespaces.has('mount');
  const newUser = isNew('user');
  const joinedUser = joined('user');

  if ((linux.uidMappings?.length || linux.gidMappings?.length) && !newUser) {
    throw invalid('InvalidSpec', 'linux.uidMappings: id mappings need a new user namespace in linux.namespaces');
  }
  if (newUser && !linux.uidMappings?.length) throw invalid('InvalidSpec', 'linux.uidMappings: a new user namespace needs uid mappings');
  if (newUser && !linux.gidMappings?.length) throw invalid('InvalidSpec', 'linux.gidMappings: a new user namespace needs gid mappings');
  if (newUser && joined('mount')) throw invalid('InvalidSpec', 'linux.namespaces: joining a mount namespace while creating a user namespace is not supported');
  if (spec.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})?$/.test(spec.hostname) && spec.hostname !== '') {
    throw invalid('InvalidSpec', `hostname: ${JSON.stringify(spec.hostname)} is not a valid hostname (letters, digits, '.' and '-', at most 64)`);
  }
  if (spec.hostname && !namespaces.has('uts') && !ctx.joinExisting) throw invalid('InvalidSpec', 'hostname: setting a hostname needs a uts namespace');

  // --- monitor phase
  if (ctx.handOff && (ctx.relayTerminal || ctx.forwardSignals || ctx.monitor)) {
    throw new BugError('a handed-off process needs nothing that keeps its monitor');
  }
  if (ctx.exitFile && !ctx.handOff) ops.push({ op: 'monitorExitFile', path: ctx.exitFile });
  if (ctx.pidFile) ops.push({ op: 'monitorPidFile', path: ctx.pidFile });
  if (ctx.startFifo) ops.push({ op: 'monitorStartFifo', path: ctx.startFifo });
  if (ctx.handOff) ops.push({ op: 'monitorHandOff' });
  const monitor = ctx.monitor ?? {};
  const keepsOutput = Boolean(monitor.logFile || monitor.attachSocket);
  if (proc.terminal) {
    if (ctx.consoleSocket) ops.push({ op: 'monitorConsoleSocket', path: ctx.consoleSocket });
    else if (keepsOutput) { /* the monitor holds the terminal itself */ }
    else if (ctx.relayTerminal) ops.push({ op: 'monitorRelayTerminal' });
    else throw invalid('InvalidSpec', 'process.terminal: a terminal needs --console-socket, or an attached run');
  }
  ops.push(...monitorOps(monitor, Boolean(proc.terminal && ctx.consoleSocket)));
  if (monitor.healthcheck) ops.push(healthcheckOp(monitor.healthcheck, ctx));
  if (ctx.forwardSignals) ops.push({ op: 'monitorForwardSignals' });
  // Namespaces the process must be born in: the monitor joins them, and the
  // clone inherits them (a joined pid namespace only applies to children).
  for (const type of NAMESPACE_ORDER) {
    const path = joined(type);
    if (path !== undefined && (SETNS_IN_MONITOR.includes(type) && !joinedUser)) {
      ops.push({ op: 'monitorSetns', path, nstype: CLONE_FLAGS[type], why: `join ${type} namespace` });
    }
  }

  // --- clone
  // With a joined user namespace, the new namespaces must be created after
  // joining it (so that it owns them): only the pid namespace is cloned, the
  // rest unshared in the child. cgroup always comes later, once the process
  // sits in its cgroup.
  const cloneTypes = NAMESPACE_ORDER.filter((t) => isNew(t) && t !== 'cgroup' && (!joinedUser || t === 'pid'));
  ops.push({
    op: 'clone',
    flags: cloneTypes.reduce((f, t) => f | CLONE_FLAGS[t], 0),
    why: cloneTypes.length ? `new ${cloneTypes.join(', ')} namespace${cloneTypes.length > 1 ? 's' : ''}` : 'no new namespaces',
  });

  // --- parent phase
  if (newUser) {
    ops.push({ op: 'parentWriteProc', relpath: 'uid_map', data: idMap(linux.uidMappings!) });
    ops.push({ op: 'parentWriteProc', relpath: 'gid_map', data: idMap(linux.gidMappings!) });
  }
  if (proc.oomScoreAdj !== undefined) ops.push({ op: 'parentWriteProc', relpath: 'oom_score_adj', data: String(proc.oomScoreAdj) });
  for (const path of ctx.cgroup?.procsFiles ?? []) ops.push({ op: 'parentJoinCgroup', path });

  // --- child phase: namespaces
  if (joinedUser) {
    ops.push({ op: 'setns', path: joinedUser, nstype: CLONE_FLAGS.user, why: 'join user namespace' });
    for (const type of NAMESPACE_ORDER) {
      const path = joined(type);
      if (type !== 'user' && path !== undefined) ops.push({ op: 'setns', path, nstype: CLONE_FLAGS[type], why: `join ${type} namespace` });
    }
  } else if (joined('mount')) {
    ops.push({ op: 'setns', path: joined('mount')!, nstype: CLONE_FLAGS.mount, why: 'join mount namespace' });
  }
  if (newUser || joinedUser) ops.push({ op: 'setIds', uid: 0, gid: 0 });
  const unshareTypes = NAMESPACE_ORDER.filter((t) => isNew(t) && !cloneTypes.includes(t));
  if (unshareTypes.length) {
    ops.push({
      op: 'unshare',
      flags: unshareTypes.reduce((f, t) => f | CLONE_FLAGS[t], 0),
      why: `new ${unshareTypes.join(', ')} namespace${unshareTypes.length > 1 ? 's' : ''}`,
    });
  }

  // --- filesystem
  const inUserNs = newUser || joinedUser !== undefined;
  if (ctx.joinExisting) {
    // The container's filesystem, hostname and sysctls are already in place.
  } else if (hasMountNs) {
    buildRootfs(spec, ctx, rootfs, inUserNs, ops);
  } else {
    ops.push({ op: 'chroot', root: rootfs });
  }

  // Kernel parameters scoped to the container's namespaces.
  for (const [key, value] of Object.entries(ctx.joinExisting ? {} : linux.sysctl ?? {})) {
    if (!/^[a-z0-9_.-]+$/i.test(key) || key.includes('..')) throw invalid('InvalidSpec', `linux.sysctl: invalid key "${key}"`);
    const ns = sysctlNamespace(key);
    if (!ns) throw invalid('InvalidSpec', `linux.sysctl: "${key}" is not namespaced: setting it would change the host`);
    if (!namespaces.has(ns)) throw invalid('InvalidSpec', `linux.sysctl: "${key}" needs a ${ns} namespace`);
    ops.push({ op: 'writeFile', path: `/proc/sys/${key.replaceAll('.', '/')}`, data: value, why: `sysctl ${key}=${value}` });
  }
  if (hasMountNs && !ctx.joinExisting) {
    for (const path of linux.maskedPaths ?? []) ops.push({ op: 'maskPath', path: checkContainerPath(path, 'linux.maskedPaths') });
    for (const path of linux.readonlyPaths ?? []) ops.push({ op: 'readonlyPath', path: checkContainerPath(path, 'linux.readonlyPaths') });
    if (spec.root.readonly) ops.push({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.BIND | MS.REMOUNT | MS.RDONLY, data: '', why: 'root.readonly' });
  }

  if (spec.hostname !== undefined && !ctx.joinExisting) ops.push({ op: 'sethostname', name: spec.hostname });
  if (spec.domainname !== undefined && !ctx.joinExisting) {
    if (!namespaces.has('uts')) throw invalid('InvalidSpec', 'domainname: setting a domain name needs a uts namespace');
    ops.push({ op: 'setdomainname', name: spec.domainname });
  }

  // --- process
  for (const [i, rl] of (proc.rlimits ?? []).entries()) {
    const field = `process.rlimits[${i}]`;
    const resource = rlimitNumber(rl.type, `${field}.type`);
    // JSON cannot hold 2^64-1 exactly: anything from there on is "unlimited".
    let soft = BigInt(rl.soft) > RLIM_INFINITY ? RLIM_INFINITY : BigInt(rl.soft);
    let hard = BigInt(rl.hard) > RLIM_INFINITY ? RLIM_INFINITY : BigInt(rl.hard);
    if (soft > hard) throw invalid('InvalidSpec', `${field}: soft limit ${soft} is above hard limit ${hard}`);
    const ceiling = ctx.hardLimits.get(rl.type as RlimitName) ?? RLIM_INFINITY;
    if (!ctx.canRaiseHardLimits && hard > ceiling) {
      warnings.push(`${field}: ${rl.type} hard limit ${hard} clamped to ${ceiling}: this host does not allow raising it (no CAP_SYS_RESOURCE)`);
      hard = ceiling;
      if (soft > hard) soft = hard;
    }
    ops.push({ op: 'setrlimit', resource, soft, hard, name: rl.type });
  }

  ops.push(proc.terminal ? { op: 'terminal' } : { op: 'setsid' });

  const lastCapMask = kernelCapabilityMask(ctx.lastCap);
  const caps = proc.capabilities ?? {};
  const capSet = (name: keyof typeof caps) => capabilityMask(caps[name], `process.capabilities.${name}`) & lastCapMask;
  // On cgroup v2 the device rules need an eBPF program, which berth does not
  // attach yet: without it, CAP_MKNOD would let the container make a node for
  // a host disk and read it. Drop the capability rather than the protection.
  let withheld = 0n;
  if (ctx.cgroup?.version === 2 && linux.resources?.devices?.some((d) => !d.allow)) {
    withheld = capabilityMask(['CAP_MKNOD'], 'CAP_MKNOD');
    warnings.push('linux.resources.devices: device rules are not enforced on cgroup v2 yet; CAP_MKNOD is dropped instead');
  }
  const bounding = capSet('bounding') & ~withheld;
  const effective = capSet('effective') & ~withheld;
  const permitted = capSet('permitted') & ~withheld;
  const inheritable = capSet('inheritable') & ~withheld;
  const ambient = capSet('ambient') & ~withheld;

  // Only the intended stdio crosses into the container: close everything else
  // before the cwd is chosen (a leaked host directory fd would make
  // /proc/self/fd/N a way out, CVE-2024-21626) and before the seccomp filter,
  // which may deny close_range itself.
  ops.push({ op: 'closeFrom', fd: 3 });
  if (proc.noNewPrivileges) ops.push({ op: 'noNewPrivs' });
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while
  // the process still has it. With no_new_privs, load it as late as possible
  // so that fewer of our own syscalls go through it.
  if (ctx.seccomp && !proc.noNewPrivileges) ops.push({ op: 'seccomp', ...ctx.seccomp });
  ops.push({ op: 'boundingSet', keep: bounding });
  const uid = proc.user.uid;
  const gid = proc.user.gid;
  ops.push({ op: 'setgroups', groups: proc.user.additionalGids ?? [] });
  ops.push({ op: 'setuidGid', uid, gid });
  ops.push({ op: 'chdir', path: proc.cwd });
  ops.push({ op: 'capset', effective, permitted, inheritable });
  if (ambient) ops.push({ op: 'ambient', raise: ambient });
  ops.push({ op: 'waitStart' });
  if (ctx.seccomp && proc.noNewPrivileges) ops.push({ op: 'seccomp', ...ctx.seccomp });
  ops.push({ op: 'exec', file: proc.args[0]!, argv: proc.args, env: proc.env ?? [] });
  return { ops, warnings, rootfs };
}

/** The ops of a monitor that keeps output and calls back; checked here so the helper's plan error never is the user's. */
function monitorOps(m: MonitorPlanOptions, consoleSocket: boolean): PlanOp[] {
  const ops: PlanOp[] = [];
  if ((m.logFile || m.attachSocket) && consoleSocket) throw invalid('InvalidMonitor', 'monitor: a console socket takes the terminal; the monitor cannot also keep its output');
  if (m.logFile) ops.push({ op: 'monitorLogFile', path: checkAbsolute(m.logFile, 'monitor.logFile') });
  if (m.openStdin) {
    if (!m.attachSocket) throw invalid('InvalidMonitor', 'monitor.openStdin: stdin is fed by attach clients, so it needs monitor.attachSocket');
    ops.push({ op: 'monitorOpenStdin', stdinOnce: Boolean(m.stdinOnce) });
  }
  if (m.attachSocket) {
    const path = checkAbsolute(m.attachSocket, 'monitor.attachSocket');
    if (Buffer.byteLength(path) >= 108) throw invalid('InvalidMonitor', `monitor.attachSocket: "${path}" is too long for a unix socket (at most 107 bytes)`);
    ops.push({ op: 'monitorAttachSocket', path });
  }
  if (m.exitCommand) ops.push({ op: 'monitorExitCommand', argv: checkCommand(m.exitCommand, 'monitor.exitCommand') });
  return ops;
}

function healthcheckOp(h: HealthcheckOptions, ctx: BuildContext): PlanOp {
  const positive = (value: number, field: string, zero = false) => {
    if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !zero)) throw invalid('InvalidMonitor', `monitor.healthcheck.${field}: ${value} is not a positive whole number`);
    return value;
  };
  if (!ctx.probePlanFile) throw invalid('InvalidMonitor', 'monitor.healthcheck: needs a place for the probe\'s plan (a state directory)');
  if (!h.command.length) throw invalid('InvalidMonitor', 'monitor.healthcheck.command: empty');
  return {
    op: 'monitorHealthcheck',
    probePlan: ctx.probePlanFile,
    results: checkAbsolute(h.resultsFile, 'monitor.healthcheck.resultsFile'),
    hook: checkCommand(h.hook, 'monitor.healthcheck.hook'),
    intervalNs: BigInt(positive(h.intervalNs, 'intervalNs')),
    timeoutNs: BigInt(positive(h.timeoutNs, 'timeoutNs')),
    startPeriodNs: BigInt(positive(h.startPeriodNs, 'startPeriodNs', true)),
    startIntervalNs: BigInt(positive(h.startIntervalNs, 'startIntervalNs')),
    retries: positive(h.retries, 'retries'),
    pausedFile: ctx.cgroup?.freezer?.file ?? '',
    pausedText: ctx.cgroup?.freezer?.frozen ?? '',
  };
}

function checkAbsolute(path: string, field: string): string {
  if (!isAbsolute(path)) throw invalid('InvalidMonitor', `${field}: "${path}" must be an absolute path`);
  return path;
}

function checkCommand(argv: string[], field: string): string[] {
  if (!argv.length || !isAbsolute(argv[0]!)) throw invalid('InvalidMonitor', `${field}: needs an absolute program path first, got ${JSON.stringify(argv)}`);
  return argv;
}

const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/** Which namespace scopes a sysctl (as runc's validation has it); undefined for host-wide ones. */
function sysctlNamespace(key: string): NamespaceType | undefined {
  if (IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  if (key.startsWith('net.')) return 'network';
  return undefined;
}

function idMap(maps: readonly { containerID: number; hostID: number; size: number }[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function checkContainerPath(path: string, field: string): string {
  if (!path.startsWith('/')) throw invalid('InvalidSpec', `${field}: "${path}" must be an absolute path`);
  return posix.normalize(path);
}

const makedev = (major: number, minor: number) =>
  (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | (((major & ~0xfff) >>> 0) * 2 ** 32);

const DEVICE_TYPE_BITS: Record<string, number> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

/** The root filesystem: make it private, mount everything, add /dev, pivot into it. */
function buildRootfs(spec: Spec, ctx: BuildContext, rootfs: string, inUserNs: boolean, ops: PlanOp[]): void {
  const linux = spec.linux ?? {};
  // Nothing this container mounts may propagate back to the host.
  ops.push({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.REC | MS.SLAVE, data: '', why: 'stop mount events propagating to the host' });
  // pivot_root needs the new root to be a mount point.
  ops.push({ op: 'mount', source: rootfs, target: rootfs, fstype: '', flags: MS.BIND | MS.REC, data: '', why: 'make the root filesystem a mount point' });

  // The runtime sets up /dev unless the host's is bound there (runc's rule).
  let devFromHost = false;
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    mountOps(m, `mounts[${i}]`, ctx, rootfs, ops);
    if (posix.normalize(m.destination) !== '/dev') continue;
    devFromHost = m.type === 'bind' || Boolean(m.options?.some((o) => o === 'bind' || o === 'rbind'));
  }

  // Devices: the spec's defaults ("Default Devices": the runtime MUST supply
  // them) and linux.devices; an entry of linux.devices replaces the default
  // of the same path. Inside a user namespace mknod is never allowed, so the
  // host's node is bound; elsewhere mknod may still be denied (a device
  // cgroup, a security module), and then the host's node is bound as well,
  // as runc does.
  const devices = new Map<string, { d: SpecDevice; field?: string }>();
  if (!devFromHost) for (const d of DEFAULT_DEVICES) devices.set(d.path, { d: { ...d } });
  for (const [i, d] of (linux.devices ?? []).entries()) devices.set(d.path, { d, field: `linux.devices[${i}]` });
  for (const { d, field } of devices.values()) {
    if (inUserNs) {
      ops.push({ op: 'mountInRoot', root: rootfs, target: d.path, source: d.path, fstype: '', flags: MS.BIND, data: '', create: MountCreate.File, why: `device ${d.path} (bound: mknod is not allowed in a user namespace)` });
    } else {
      if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) {
        throw invalid('InvalidSpec', `${field}: ${d.path} needs major and minor numbers`);
      }
      const mode = (DEVICE_TYPE_BITS[d.type] ?? 0) | ((d.fileMode ?? 0o666) & 0o7777);
      ops.push({
        op: 'mknodInRoot', root: rootfs, target: d.path, mode, dev: makedev(d.major ?? 0, d.minor ?? 0),
        uid: d.uid ?? 0, gid: d.gid ?? 0, bindIfDenied: d.type === 'p' ? '' : d.path,
      });
    }
  }
  if (!devFromHost) {
    for (const [link, target] of DEFAULT_DEV_SYMLINKS) ops.push({ op: 'symlinkInRoot', root: rootfs, linkpath: link, target });
  }

  ops.push({ op: 'pivotRoot', root: rootfs });
  if (linux.rootfsPropagation) {
    ops.push({ op: 'mount', source: '', target: '/', fstype: '', flags: PROPAGATION_OPTIONS[linux.rootfsPropagation]!, data: '', why: `rootfsPropagation ${linux.rootfsPropagation}` });
  }
}

function mountOps(m: SpecMount, field: string, ctx: BuildContext, rootfs: string, ops: PlanOp[]): void {
  const dest = checkContainerPath(m.destination, `${field}.destination`);
  const opts = parseMountOptions(m.options, `${field}.options`);
  const isBind = opts.isBind || m.type === 'bind';
  const why = `${field}: ${m.type ?? 'bind'} on ${dest}`;
  const source = !isBind || !m.source ? undefined : isAbsolute(m.source) ? m.source : join(ctx.bundle, m.source);
  const procProblem = procMountProblem(dest, { type: m.type, isBind, sourceIsProcfs: source !== undefined && ctx.isProcfs(source) });
  if (procProblem) throw invalid('InvalidSpec', `${field}.destination: ${procProblem}`);

  if (m.type === 'cgroup' || m.type === 'cgroup2') {
    cgroupMountOps(dest, opts.flags, ctx, rootfs, ops, why);
    return;
  }
  if (isBind) {
    if (!source) throw invalid('InvalidSpec', `${field}.source: a bind mount needs a source`);
    const rec = opts.flags & MS.REC;
    ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source, fstype: '', flags: MS.BIND | rec, data: '', create: ctx.isDirectory(source) ? MountCreate.Directory : MountCreate.File, why });
    // A bind ignores every other flag: read-only and friends need a remount.
    const remount = opts.flags & BIND_REMOUNT_FLAGS;
    if (remount) {
      ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source: '', fstype: '', flags: MS.BIND | MS.REMOUNT | remount, data: '', create: MountCreate.None, why: `${field}: remount with ${m.options?.filter((o) => o !== 'bind' && o !== 'rbind').join(',')}` });
    }
  } else {
    if (!m.type) throw invalid('InvalidSpec', `${field}.type: missing (not a bind mount)`);
    ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source: m.source ?? m.type, fstype: m.type, flags: opts.flags, data: opts.data.join(','), create: MountCreate.Directory, why });
  }
  for (const flags of opts.propagation) {
    ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source: '', fstype: '', flags, data: '', create: MountCreate.None, why: `${field}: propagation` });
  }
}


/**
 * /sys/fs/cgroup inside the container shows only the container's own cgroup:
 * on v2 a cgroup2 mount (rooted at the container's cgroup by the cgroup
 * namespace), on v1 a tmpfs with the container's directory of each hierarchy
 * bound into it.
 */
function cgroupMountOps(dest: string, flags: number, ctx: BuildContext, rootfs: string, ops: PlanOp[], why: string): void {
  const cg = ctx.cgroup;
  const roFlags = flags & BIND_REMOUNT_FLAGS;
  if (!cg) return;
  if (cg.version === 2) {
    const dir = posix.dirname(cg.procsFiles[0]!);
    ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source: dir, fstype: '', flags: MS.BIND | MS.REC, data: '', create: MountCreate.Directory, why: `${why} (the container's cgroup)` });
    if (roFlags) ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source: '', fstype: '', flags: MS.BIND | MS.REMOUNT | roFlags, data: '', create: MountCreate.None, why: `${why}: read-only` });
    return;
  }
  ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source: 'tmpfs', fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: 'mode=755', create: MountCreate.Directory, why: `${why} (a tmpfs holding each hierarchy)` });
  for (const procs of cg.procsFiles) {
    const dir = posix.dirname(procs);
    const mount = cg.mounts?.find((m) => dir.startsWith(m + '/'));
    const hierarchy = mount ?? (dir.endsWith(cg.path) ? dir.slice(0, dir.length - cg.path.length) : posix.dirname(dir));
    const name = posix.basename(hierarchy);
    const target = posix.join(dest, name);
    ops.push({ op: 'mountInRoot', root: rootfs, target, source: dir, fstype: '', flags: MS.BIND | MS.REC, data: '', create: MountCreate.Directory, why: `cgroup v1 ${name}: the container's own directory` });
    if (roFlags) ops.push({ op: 'mountInRoot', root: rootfs, target, source: '', fstype: '', flags: MS.BIND | MS.REMOUNT | roFlags, data: '', create: MountCreate.None, why: `cgroup v1 ${name}: read-only` });
  }
  if (roFlags & MS.RDONLY) {
    ops.push({ op: 'mountInRoot', root: rootfs, target: dest, source: '', fstype: '', flags: MS.REMOUNT | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, data: 'mode=755', create: MountCreate.None, why: `${why}: read-only` });
  }
}
