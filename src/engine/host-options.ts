// HostConfig's resources, limits and security options turned into the OCI
// spec, as moby's daemon turns them into runc's config.json: cgroup limits,
// rlimits, capabilities (and the seccomp profile that depends on them),
// sysctls, devices, /dev/shm's size, a read-only root, an init as PID 1.
// validateHostConfig() is Docker's verifyContainerResources and friends: the
// same messages, for the CLI and the API alike, before anything is made.
import { lstatSync, readdirSync, readFileSync, existsSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { invalid } from '../util/errors.js';
import { devicePath, type Spec } from '../runtime/spec.js';
import { DOCKER_DEFAULT_CAPABILITIES } from '../runtime/defaults.js';
import { CAPABILITIES, capabilityName, capabilityNames, type CapabilityName } from '../runtime/capabilities.js';
import { dockerDefaultSeccomp, resolveDockerProfile, type DockerProfile } from '../runtime/seccomp/docker-default.js';
import { compileSeccomp } from '../runtime/seccomp/compile.js';
import { currentHardLimits, canRaiseHardLimits, RLIM_INFINITY, type RlimitName } from '../runtime/rlimits.js';
import type { LinuxResources } from '../runtime/cgroups/index.js';
import type { DeviceMapping, HostConfig } from './host-config.js';

export interface HostOptionsContext {
  /** The container's mounted root filesystem. */
  rootfs: string;
  warn: (message: string) => void;
}

/** moby's linuxMinMemory. */
export const MIN_MEMORY = 6 * 1024 * 1024;
const MIN_CPU_SHARES = 2;
const MAX_CPU_SHARES = 262144;
/** Docker's --cpus → CFS: this period, and a quota of that many CPUs' worth of it. */
export const CFS_PERIOD_US = 100000;
/** The init `--init` runs as PID 1: Docker's docker-init is tini; Debian's tini package ships a static one. */
export const INIT_BINARIES = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/libexec/docker/docker-init'];
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

/** go-units' ulimit names: `--ulimit nofile=…` is RLIMIT_NOFILE. */
export const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** The CPUs this host has online ("0-3,6"), as a set. */
function onlineCpus(): Set<number> {
  try {
    return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8').trim()) ?? new Set();
  } catch {
    return new Set(Array.from({ length: availableParallelism() }, (_, i) => i));
  }
}

/** "0-3,5" → {0,1,2,3,5}; undefined when it is not such a list. */
export function parseCpuList(text: string): Set<number> | undefined {
  const cpus = new Set<number>();
  if (text === '') return cpus;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to > 8191) return undefined;
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return cpus;
}

function formatCpuList(cpus: Set<number>): string {
  const sorted = [...cpus].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

/** moby's NormalizeLegacyCapabilities: "net_admin" → "CAP_NET_ADMIN"; "ALL" stays. */
function normaliseCapabilities(names: readonly string[] | undefined): string[] {
  return (names ?? []).map((name) => {
    if (name.toUpperCase() === 'ALL') return 'ALL';
    const canonical = capabilityName(name);
    if (!canonical) throw invalid('InvalidCapability', `unknown capability: "${name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`}"`);
    return canonical;
  });
}

/** The capabilities the running kernel knows (moby's GetAllCapabilities). */
function kernelCapabilities(): CapabilityName[] {
  let last = CAPABILITIES.length - 1;
  try {
    last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch { /* assume all */ }
  return CAPABILITIES.slice(0, last + 1);
}

/** moby's TweakCapabilities: the container's capability set. */
export function tweakCapabilities(hc: Pick<HostConfig, 'CapAdd' | 'CapDrop' | 'Privileged'>, all: readonly CapabilityName[] = kernelCapabilities()): string[] {
  const adds = normaliseCapabilities(hc.CapAdd);
  const drops = normaliseCapabilities(hc.CapDrop);
  if (hc.Privileged) return [...all];
  if (adds.length === 0 && drops.length === 0) return [...DOCKER_DEFAULT_CAPABILITIES];
  if (adds.includes('ALL')) return all.filter((c) => !drops.includes(c));
  if (drops.includes('ALL')) return [...new Set(adds)];
  return [...new Set([...DOCKER_DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds])];
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && b.every((x) => a.includes(x));

/** This process's bounding set: a container cannot be given a capability outside it. */
function hostBoundingSet(): Set<string> {
  const bnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return new Set(bnd === undefined ? CAPABILITIES : capabilityNames(BigInt(`0x${bnd}`)));
}

interface SecurityOptions {
  /** undefined: Docker's default profile; null: none. */
  seccomp?: DockerProfile | null;
  noNewPrivileges?: boolean;
  unmaskSystemPaths?: boolean;
  writableCgroups?: boolean;
}

const dockerSyscall = z.object({
  names: z.array(z.string()).optional(),
  name: z.string().optional(),
  action: z.string(),
  errnoRet: z.number().int().optional(),
  args: z.array(z.object({ index: z.number().int(), value: z.number(), valueTwo: z.number().optional(), op: z.string() })).nullish(),
  includes: z.object({ caps: z.array(z.string()).optional(), arches: z.array(z.string()).optional(), minKernel: z.string().optional() }).optional(),
  excludes: z.object({ caps: z.array(z.string()).optional(), arches: z.array(z.string()).optional(), minKernel: z.string().optional() }).optional(),
  comment: z.string().optional(),
}).refine((s) => (s.names?.length ?? 0) > 0 || s.name !== undefined, 'a syscall entry needs "names" or "name"');

const dockerProfile = z.object({
  defaultAction: z.string(),
  defaultErrnoRet: z.number().int().optional(),
  architectures: z.array(z.string()).nullish(),
  archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullish() })).nullish(),
  flags: z.array(z.string()).nullish(),
  syscalls: z.array(dockerSyscall).nullish(),
});

function parseSeccompProfile(json: string): DockerProfile {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw invalid('InvalidSeccompProfile', `Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  const r = dockerProfile.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw invalid('InvalidSeccompProfile', `Decoding seccomp profile failed: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const p = r.data;
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    ...(p.architectures ? { architectures: p.architectures } : {}),
    ...(p.archMap ? { archMap: p.archMap.map((a) => ({ architecture: a.architecture, subArchitectures: a.subArchitectures ?? null })) } : {}),
    ...(p.flags ? { flags: p.flags } : {}),
    syscalls: (p.syscalls ?? []).map((s) => ({
      names: s.names?.length ? s.names : [s.name!],
      action: s.action,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args ? { args: s.args } : {}),
      ...(s.includes ? { includes: s.includes } : {}),
      ...(s.excludes ? { excludes: s.excludes } : {}),
    })),
  } as DockerProfile;
}

/** moby's parseSecurityOpt, for the options berth acts on. */
function securityOptions(opts: readonly string[] | undefined, warn?: (m: string) => void): SecurityOptions {
  const out: SecurityOptions = {};
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (sep === undefined) throw invalid('InvalidSecurityOpt', `invalid --security-opt 1: "${opt}"`);
    const key = opt.slice(0, opt.indexOf(sep));
    const value = opt.slice(opt.indexOf(sep) + 1);
    const bool = () => {
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) throw invalid('InvalidSecurityOpt', `invalid --security-opt 2: "${opt}"`);
      return /^(1|t|T|TRUE|true|True)$/.test(value);
    };
    switch (key) {
      case 'seccomp':
        out.seccomp = value === 'unconfined' ? null : value === 'builtin' || value === '' ? undefined : parseSeccompProfile(value);
        break;
      case 'no-new-privileges':
        out.noNewPrivileges = bool();
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw invalid('InvalidSecurityOpt', `invalid --security-opt 2: "${opt}": systempaths can only be "unconfined"`);
        out.unmaskSystemPaths = true;
        break;
      case 'writable-cgroups':
        out.writableCgroups = bool();
        break;
      case 'apparmor':
      case 'label':
        // This host runs neither AppArmor nor SELinux for berth's containers.
        if (value !== 'unconfined' && value !== 'disable') warn?.(`--security-opt ${opt}: ignored, berth applies no ${key === 'label' ? 'SELinux' : 'AppArmor'} profiles`);
        break;
      default:
        throw invalid('InvalidSecurityOpt', `invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

function statDevice(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
    throw invalid('InvalidDevice', `error gathering device information while adding custom device "${path}": ${why}`);
  }
}

const major = (rdev: number) => Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
const minor = (rdev: number) => Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);

interface ContainerDevice { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number }

function deviceOf(containerPath: string, st: Stats): ContainerDevice | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  return { path: containerPath, type: st.isCharacterDevice() ? 'c' : 'b', major: major(st.rdev), minor: minor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** A --device mapping: one node, or every node under a directory (as Docker does). */
function devicesOf(m: DeviceMapping): ContainerDevice[] {
  const st = statDevice(m.PathOnHost);
  const one = deviceOf(m.PathInContainer, st);
  if (one) return [one];
  if (!st.isDirectory()) throw invalid('InvalidDevice', `error gathering device information while adding custom device "${m.PathOnHost}": not a device node`);
  return walkDevices(m.PathOnHost, m.PathInContainer, false);
}

// runc's HostDevices leaves these out: other mounts cover them, or they are not the container's.
const SKIPPED_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);
// /dev/ptmx is a link to the container's own devpts; /dev/console is the container's terminal.
const SKIPPED_DEV_FILES = new Set(['console', 'ptmx']);

/** Device nodes under a directory; `hostDev` is the host's /dev, where runc's exceptions apply. */
function walkDevices(hostDir: string, containerDir: string, hostDev: boolean): ContainerDevice[] {
  const out: ContainerDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(hostDir);
  } catch {
    return out;
  }
  for (const name of names) {
    const hostPath = join(hostDir, name);
    let st: Stats;
    try {
      st = lstatSync(hostPath);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (!(hostDev && SKIPPED_DEV_DIRS.has(name))) out.push(...walkDevices(hostPath, join(containerDir, name), false));
      continue;
    }
    if (hostDev && SKIPPED_DEV_FILES.has(name)) continue;
    const d = deviceOf(join(containerDir, name), st);
    if (d) out.push(d);
  }
  return out;
}

/** Every device node of the host, for --privileged. */
function hostDevices(): ContainerDevice[] {
  return walkDevices('/dev', '/dev', true);
}

/** Where the init binary for --init is, or a clear error. */
export function initBinary(): string {
  const found = INIT_BINARIES.find((p) => existsSync(p));
  if (!found) throw invalid('NoInit', `--init: no init binary found (looked for ${INIT_BINARIES.join(', ')}); install Debian's tini package`);
  return found;
}

export interface ValidateOptions {
  /** `update` checks a change, not a whole configuration: swap may come without memory. */
  update?: boolean;
}

/**
 * Docker's checks of a HostConfig, with Docker's messages. Throws invalid()
 * for the first problem; reads the host (CPUs, devices, seccomp profile) but
 * changes nothing.
 */
export function validateHostConfig(hc: HostConfig, opts: ValidateOptions = {}): void {
  const memory = hc.Memory ?? 0;
  const swap = hc.MemorySwap ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('InvalidMemory', 'Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('InvalidMemorySwap', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0 && !opts.update) throw invalid('InvalidMemorySwap', 'You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap < -1) throw invalid('InvalidMemorySwap', `invalid memory swap ${swap}: use -1 for unlimited`);
  if (hc.NanoCpus !== undefined && hc.NanoCpus !== 0) {
    const n = availableParallelism();
    // Below 0.01 CPUs the CFS quota would be under the kernel's 1 ms minimum.
    if (hc.NanoCpus < 1e7 || hc.NanoCpus > n * 1e9) {
      throw invalid('InvalidCpus', `Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
    }
  }
  if (hc.CpusetCpus !== undefined && hc.CpusetCpus !== '') {
    const wanted = parseCpuList(hc.CpusetCpus);
    if (!wanted) throw invalid('InvalidCpuset', `Invalid value ${hc.CpusetCpus} for cpuset cpus`);
    const online = onlineCpus();
    if ([...wanted].some((c) => !online.has(c))) {
      throw invalid('InvalidCpuset', `Requested CPUs are not available - requested ${hc.CpusetCpus}, available: ${formatCpuList(online)}`);
    }
  }
  if (hc.ShmSize !== undefined && hc.ShmSize < 0) throw invalid('InvalidShmSize', 'SHM size can not be less than 0');
  for (const u of hc.Ulimits ?? []) {
    if (!ULIMIT_NAMES.includes(u.Name)) throw invalid('InvalidUlimit', `invalid ulimit type: ${u.Name}`);
    if (u.Soft !== -1 && u.Hard !== -1 && u.Soft > u.Hard) throw invalid('InvalidUlimit', `ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    if (u.Soft < -1 || u.Hard < -1) throw invalid('InvalidUlimit', `invalid ulimit value for ${u.Name}: ${u.Soft}:${u.Hard} (use -1 for unlimited)`);
  }
  tweakCapabilities(hc);
  const security = securityOptions(hc.SecurityOpt);
  if (security.seccomp) compileSeccomp(resolveDockerProfile(security.seccomp, tweakCapabilities(hc)));
  for (const d of hc.Devices ?? []) {
    if (!/^[rwm]{1,3}$/.test(d.CgroupPermissions) || new Set(d.CgroupPermissions).size !== d.CgroupPermissions.length) {
      throw invalid('InvalidDevice', `invalid device mode: ${d.CgroupPermissions}`);
    }
    if (devicePath(d.PathInContainer) === undefined) throw invalid('InvalidDevice', `--device ${d.PathOnHost}:${d.PathInContainer}: the container path must be under /dev/`);
    devicesOf(d);
  }
  if (hc.UsernsMode !== undefined && hc.UsernsMode !== '' && hc.UsernsMode !== 'host') {
    throw invalid('InvalidUserns', `--userns: invalid USER mode "${hc.UsernsMode}" (berth supports "host": no user namespace)`);
  }
  if (hc.Init) initBinary();
}

/** The cgroup limits of a HostConfig, in the OCI spec's terms (Docker's adaptContainerSettings included). */
export function resourcesOf(hc: HostConfig, warn: (m: string) => void = () => {}, opts: ValidateOptions = {}): LinuxResources {
  const r: LinuxResources = {};
  const memory = hc.Memory ?? 0;
  let swap = hc.MemorySwap ?? 0;
  // Docker: --memory without --memory-swap allows as much swap again.
  if (memory > 0 && swap === 0 && !opts.update) swap = memory * 2;
  if (memory > 0 || swap !== 0) r.memory = { ...(memory > 0 ? { limit: memory } : {}), ...(swap !== 0 ? { swap } : {}) };
  let shares = hc.CpuShares ?? 0;
  if (shares !== 0 && shares < MIN_CPU_SHARES) {
    warn(`Changing requested CPUShares of ${shares} to minimum allowed of ${MIN_CPU_SHARES}`);
    shares = MIN_CPU_SHARES;
  } else if (shares > MAX_CPU_SHARES) {
    warn(`Changing requested CPUShares of ${shares} to maximum allowed of ${MAX_CPU_SHARES}`);
    shares = MAX_CPU_SHARES;
  }
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (shares !== 0) cpu.shares = shares;
  if (hc.NanoCpus) {
    cpu.period = CFS_PERIOD_US;
    cpu.quota = Math.trunc((hc.NanoCpus * CFS_PERIOD_US) / 1e9);
  }
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== 0) r.pids = { limit: hc.PidsLimit };
  return r;
}

/** Apply `hc` to a spec made by containerSpec(); throws a BerthError on a bad value. */
export function applyHostConfig(spec: Spec, hc: HostConfig, ctx: HostOptionsContext): void {
  validateHostConfig(hc);
  const proc = spec.process!;
  const linux = (spec.linux ??= {});
  const security = securityOptions(hc.SecurityOpt, ctx.warn);

  // Capabilities, within what this host can hand out at all.
  const wanted = tweakCapabilities(hc);
  const bounding = hostBoundingSet();
  const caps = wanted.filter((c) => bounding.has(c));
  const explicit = new Set(normaliseCapabilities(hc.CapAdd));
  const refused = wanted.filter((c) => !bounding.has(c) && explicit.has(c));
  if (refused.length) ctx.warn(`--cap-add ${refused.join(', ')}: not in this host's bounding set, so no container here can have ${refused.length === 1 ? 'it' : 'them'}`);
  proc.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };

  // Seccomp: Docker's profile depends on the capabilities, so it is derived again.
  if (hc.Privileged || security.seccomp === null) {
    delete linux.seccomp;
  } else if (security.seccomp) {
    linux.seccomp = resolveDockerProfile(security.seccomp, caps);
  } else if (!linux.seccomp || !sameSet(caps, DOCKER_DEFAULT_CAPABILITIES)) {
    // containerSpec() made the default capabilities' profile; others need their own.
    linux.seccomp = dockerDefaultSeccomp(caps);
  }
  if (security.noNewPrivileges) proc.noNewPrivileges = true;

  if (hc.Privileged || security.unmaskSystemPaths) {
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
  }
  if (hc.Privileged || security.writableCgroups) {
    for (const m of spec.mounts ?? []) {
      if (m.destination === '/sys/fs/cgroup' || (hc.Privileged && m.destination === '/sys')) m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
  }

  // Devices: the nodes in /dev and the device cgroup's rules.
  const resources = (linux.resources ??= {});
  const devices = new Map<string, ContainerDevice>();
  for (const d of linux.devices ?? []) devices.set(d.path, d as ContainerDevice);
  if (hc.Privileged) {
    for (const d of hostDevices()) devices.set(d.path, d);
    resources.devices = [{ allow: true, access: 'rwm' }];
  }
  for (const m of hc.Devices ?? []) {
    for (const d of devicesOf(m)) {
      devices.set(d.path, d);
      if (!hc.Privileged) (resources.devices ??= []).push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: m.CgroupPermissions });
    }
  }
  if (devices.size > 0) linux.devices = [...devices.values()];

  Object.assign(resources, resourcesOf(hc, ctx.warn));

  if (hc.ReadonlyRootfs) spec.root.readonly = true;

  if (hc.Sysctls && Object.keys(hc.Sysctls).length > 0) linux.sysctl = { ...(linux.sysctl ?? {}), ...hc.Sysctls };

  if (hc.ShmSize) {
    const shm = spec.mounts?.find((m) => m.destination === '/dev/shm');
    if (shm) shm.options = [...(shm.options ?? []).filter((o) => !o.startsWith('size=')), `size=${hc.ShmSize}`];
  }

  applyUlimits(spec, hc, ctx.warn);

  if (hc.Init) {
    (spec.mounts ??= []).push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: initBinary(), options: ['bind', 'ro'] });
    proc.args = [INIT_PATH_IN_CONTAINER, '--', ...proc.args];
  }
}

/** --ulimit: replace the defaults of the same name; a hard limit above this host's is clamped, with a warning. */
function applyUlimits(spec: Spec, hc: HostConfig, warn: (m: string) => void): void {
  if (!hc.Ulimits?.length) return;
  const proc = spec.process!;
  const hardLimits = currentHardLimits();
  const canRaise = canRaiseHardLimits();
  const rlimits = (proc.rlimits ?? []).filter((rl) => !hc.Ulimits!.some((u) => `RLIMIT_${u.Name.toUpperCase()}` === rl.type));
  for (const u of hc.Ulimits) {
    const type = `RLIMIT_${u.Name.toUpperCase()}` as RlimitName;
    let soft = u.Soft === -1 ? RLIM_INFINITY : BigInt(u.Soft);
    let hard = u.Hard === -1 ? RLIM_INFINITY : BigInt(u.Hard);
    const ceiling = hardLimits.get(type) ?? RLIM_INFINITY;
    if (!canRaise && hard > ceiling) {
      warn(`--ulimit ${u.Name}: hard limit ${u.Hard === -1 ? 'unlimited' : u.Hard} is above this host's ${ceiling === RLIM_INFINITY ? 'unlimited' : ceiling}, which it cannot raise (no CAP_SYS_RESOURCE); clamped to ${ceiling}`);
      hard = ceiling;
      if (soft > hard) soft = hard;
    }
    rlimits.push({ type, soft: Number(soft), hard: Number(hard) });
  }
  proc.rlimits = rlimits;
}
