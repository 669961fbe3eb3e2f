// Flags of `run` and `create` for resources, limits and security (--memory,
// --cpus, --cap-add, --privileged, --security-opt, --ulimit, --sysctl,
// --device, --read-only, --init, --userns, …). Here only the syntax is read,
// as Docker's CLI reads it (sizes, name=value, src:dst:mode, a seccomp file
// inlined as JSON); what the values mean, and whether this host allows them,
// is the engine's judgement (validateHostConfig), shared with the API.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { invalid } from '../../util/errors.js';
import { ramInBytes } from '../../util/units.js';
import { collect } from '../context.js';
import { hostConfigOf, type FlagGroup, type ParsedFlags } from './flags.js';
import { type DeviceMapping, type Ulimit, validateHostConfig, ULIMIT_NAMES } from '../../engine/index.js';

/** Docker's wording for a value its flag parser refuses. */
export function badFlag(value: string, flag: string, why: string): never {
  throw invalid('InvalidFlag', `invalid argument "${value}" for "${flag}" flag: ${why}`);
}

function size(value: string, flag: string): number {
  try {
    return ramInBytes(value);
  } catch (err) {
    return badFlag(value, flag, (err as Error).message);
  }
}

/** `--memory-swap`: a size, or -1 for unlimited swap. */
export function parseMemorySwap(value: string): number {
  return value === '-1' ? -1 : size(value, '--memory-swap');
}

/** `--cpus 1.5` → nano-CPUs, exactly (Docker parses a rational and refuses what 1e-9 cannot hold). */
export function parseCpus(value: string): number {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(value);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return badFlag(value, '--cpus', `failed to parse ${value} as a rational number`);
  const fraction = m[2] ?? '';
  if (fraction.replace(/0+$/, '').length > 9) return badFlag(value, '--cpus', 'value is too precise');
  return Number(m[1] || '0') * 1e9 + Number(fraction.padEnd(9, '0').slice(0, 9));
}

function integer(value: string, flag: string): number {
  if (!/^[-+]?\d+$/.test(value)) return badFlag(value, flag, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}

/** `--ulimit name=soft[:hard]`, as go-units' ParseUlimit. */
export function parseUlimit(value: string): Ulimit {
  const eq = value.indexOf('=');
  if (eq < 0) return badFlag(value, '--ulimit', `invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  if (!ULIMIT_NAMES.includes(name)) return badFlag(value, '--ulimit', `invalid ulimit type: ${name}`);
  const parts = value.slice(eq + 1).split(':');
  if (parts.length > 2) return badFlag(value, '--ulimit', `too many limit value arguments - ${value.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (text: string, which: string) => {
    if (!/^-?\d+$/.test(text)) return badFlag(value, '--ulimit', `invalid ulimit ${which} value ${text}`);
    return Number(text);
  };
  const soft = num(parts[0]!, 'soft');
  const hard = parts.length === 2 ? num(parts[1]!, 'hard') : soft;
  if (soft !== -1 && hard !== -1 && soft > hard) {
    return badFlag(value, '--ulimit', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Soft: soft, Hard: hard };
}

const DEVICE_MODE = /^[rwm]{1,3}$/;
const validMode = (mode: string) => DEVICE_MODE.test(mode) && new Set(mode).size === mode.length;

/** `--device /dev/fuse[:/dev/fuse][:rwm]`, as Docker's parseDevice. */
export function parseDevice(value: string): DeviceMapping {
  const parts = value.split(':');
  let src = parts[0]!;
  let dst = src;
  let mode = 'rwm';
  if (parts.length === 3) {
    dst = parts[1]!;
    mode = parts[2]!;
    if (!validMode(mode)) return badFlag(value, '--device', `invalid device mode: ${mode}`);
  } else if (parts.length === 2) {
    if (validMode(parts[1]!)) mode = parts[1]!;
    else dst = parts[1]!;
  } else if (parts.length !== 1) {
    return badFlag(value, '--device', `bad format for path: ${value}`);
  }
  if (!dst.startsWith('/') || src === '') return badFlag(value, '--device', `bad format for path: ${value}`);
  // A relative source is taken from the current directory, as Docker does.
  if (!src.startsWith('/')) src = `${process.cwd()}/${src}`;
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: mode };
}

const SYSCTL_NAMES = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/** `--sysctl key=value`: only the namespaced ones Docker's CLI allows. */
export function parseSysctl(value: string): [string, string] {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (eq < 0 || !(SYSCTL_NAMES.includes(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.'))) {
    return badFlag(value, '--sysctl', `sysctl '${value}' is not allowed`);
  }
  return [key, value.slice(eq + 1)];
}

/** `--security-opt`: a seccomp profile file is read here and carried inline as JSON, as Docker's CLI does. */
export function parseSecurityOpt(value: string): string {
  const m = /^seccomp[=:](.*)$/s.exec(value);
  if (!m || m[1] === 'unconfined' || m[1] === 'builtin') return value;
  const file = m[1]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid('InvalidSeccompProfile', `opening seccomp profile (${file}) failed: ${(err as Error).message}`);
  }
  try {
    return `seccomp=${JSON.stringify(JSON.parse(text))}`;
  } catch (err) {
    throw invalid('InvalidSeccompProfile', `compacting json for seccomp profile (${file}) failed: ${(err as Error).message}`);
  }
}

interface HostFlags {
  memory?: string; memorySwap?: string; cpus?: string; cpuShares?: string; cpusetCpus?: string; pidsLimit?: string;
  ulimit?: string[]; shmSize?: string; sysctl?: string[]; device?: string[]; capAdd?: string[]; capDrop?: string[];
  privileged?: boolean; securityOpt?: string[]; init?: boolean; userns?: string; readOnly?: boolean;
}

/** The resource flags `run`, `create` and `update` share. */
export function addResourceFlags(cmd: Command): Command {
  return cmd
    .option('-m, --memory <bytes>', 'memory limit (e.g. 64m, 1g)')
    .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited swap')
    .option('--cpus <number>', 'number of CPUs (e.g. 1.5)')
    .option('-c, --cpu-shares <weight>', 'relative CPU weight (default 1024)')
    .option('--cpuset-cpus <list>', 'CPUs the container may run on (0-3, 0,1)')
    .option('--pids-limit <n>', 'maximum number of processes (-1 for unlimited)');
}

/** The resource flags' values, Docker's units; only those given. */
export function resourcesFromFlags(opts: ParsedFlags): { Memory?: number; MemorySwap?: number; NanoCpus?: number; CpuShares?: number; CpusetCpus?: string; PidsLimit?: number } {
  const o = opts as HostFlags;
  return {
    ...(o.memory !== undefined ? { Memory: size(o.memory, '-m, --memory') } : {}),
    ...(o.memorySwap !== undefined ? { MemorySwap: parseMemorySwap(o.memorySwap) } : {}),
    ...(o.cpus !== undefined ? { NanoCpus: parseCpus(o.cpus) } : {}),
    ...(o.cpuShares !== undefined ? { CpuShares: integer(o.cpuShares, '-c, --cpu-shares') } : {}),
    ...(o.cpusetCpus !== undefined ? { CpusetCpus: o.cpusetCpus } : {}),
    ...(o.pidsLimit !== undefined ? { PidsLimit: integer(o.pidsLimit, '--pids-limit') } : {}),
  };
}

export const hostFlags: FlagGroup = {
  add: (cmd) => addResourceFlags(cmd)
    .option('--ulimit <name=soft[:hard]>', 'resource limit (e.g. nofile=1024:2048)', collect, [] as string[])
    .option('--shm-size <bytes>', 'size of /dev/shm (default 64m)')
    .option('--sysctl <key=value>', 'namespaced kernel parameter', collect, [] as string[])
    .option('--device <host[:container][:rwm]>', 'add a host device', collect, [] as string[])
    .option('--cap-add <cap>', 'add a Linux capability (or ALL)', collect, [] as string[])
    .option('--cap-drop <cap>', 'drop a Linux capability (or ALL)', collect, [] as string[])
    .option('--privileged', 'every capability and device, no seccomp, writable /sys')
    .option('--security-opt <opt>', 'seccomp=unconfined|<profile.json>, no-new-privileges[:true]', collect, [] as string[])
    .option('--init', 'run an init as PID 1 that reaps zombies and forwards signals')
    .option('--userns <mode>', 'user namespace: host')
    .option('--read-only', 'mount the root filesystem read-only'),

  apply: (opts, body) => {
    const o = opts as HostFlags;
    const hc = hostConfigOf(body);
    Object.assign(hc, resourcesFromFlags(opts));
    if (o.ulimit?.length) hc.Ulimits = o.ulimit.map(parseUlimit);
    if (o.shmSize !== undefined) hc.ShmSize = size(o.shmSize, '--shm-size');
    if (o.sysctl?.length) hc.Sysctls = Object.fromEntries(o.sysctl.map(parseSysctl));
    if (o.device?.length) hc.Devices = o.device.map(parseDevice);
    if (o.capAdd?.length) hc.CapAdd = o.capAdd;
    if (o.capDrop?.length) hc.CapDrop = o.capDrop;
    if (o.privileged) hc.Privileged = true;
    if (o.securityOpt?.length) hc.SecurityOpt = o.securityOpt.map(parseSecurityOpt);
    if (o.init) hc.Init = true;
    if (o.userns !== undefined) hc.UsernsMode = o.userns;
    if (o.readOnly) hc.ReadonlyRootfs = true;
    // Refuse what the engine would refuse before anything is made.
    validateHostConfig(hc);
  },
};
