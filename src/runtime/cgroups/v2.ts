// cgroup v2: one hierarchy for every controller. A cgroup can use a controller
// only if its parent lists it in cgroup.subtree_control, which in turn is
// possible only for controllers in the parent's cgroup.controllers; so a
// container's cgroup gets its controllers by enabling them in every ancestor
// from the mount's root down. A non-root cgroup with controllers enabled for its
// children may hold no processes itself ("no internal processes"), which is why
// the container's own subtree_control is left alone. The freezer
// (cgroup.freeze, confirmed by "frozen 1" in cgroup.events) and cgroup.kill are
// part of the core, not controllers.
//
// Device rules are not enforced here: on v2 they need an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup, which berth does not
// build yet. describe() and `warnings` say so. What still protects the host is
// that a container sees only the device nodes its runtime creates in its /dev
// and, without CAP_MKNOD, cannot make others.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { conflict, invalid, notFound, systemError } from '../../util/errors.js';
import {
  addWarning, applyWrites, causeErrno, dropUndefined, formatWrite, makeCgroupDirs, readCgroupFile, readKeyed, readLimit, readNumber,
  readPidsRecursive, removeCgroup, removeDefaultParent, removeIfUnused, signalPids, waitUntil, write, writeCgroupFile,
  type CgroupWrite,
} from './cgroupfs.js';
import { mergeResources } from './merge.js';
import type { CgroupLimits, CgroupManager, CgroupStats, LinuxResources } from './types.js';
import {
  UNLIMITED, blkioWeightToIoWeight, blockDevice, byteLimit, dec, hugepageSize, pidsLimit, quota, ranged,
  rangedOrUnset, sharesToWeight, swapForV2, oneLine, unifiedKey, type Limit,
} from './values.js';

export interface V2Plan {
  writes: CgroupWrite[];
  warnings: string[];
  /** Settings asked for that this driver cannot enforce, for describe(). */
  notEnforced: string[];
}

/** Controllers berth enables for every container where available, so that stats and later updates work. */
export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'] as const;

const v2 = (l: Limit): string => (l === UNLIMITED ? 'max' : dec(l));

/**
 * linux.resources → the ordered writes of cgroup v2. Pure: `currentMemoryLimit`
 * (memory.max in force, undefined when unlimited or unknown) is the only state
 * it depends on; it is needed to turn an OCI swap into memory.swap.max when the
 * update changes swap alone.
 */
export function planV2(r: LinuxResources, currentMemoryLimit?: number): V2Plan {
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  const notEnforced: string[] = [];
  const m = r.memory;
  if (m !== undefined) {
    const limit = byteLimit('linux.resources.memory.limit', m.limit);
    const swap = swapForV2(byteLimit('linux.resources.memory.swap', m.swap), limit, currentMemoryLimit);
    if (limit !== undefined) writes.push(write('memory', 'memory.max', v2(limit), 'linux.resources.memory.limit'));
    if (swap !== undefined) {
      writes.push({
        controller: 'memory', field: 'linux.resources.memory.swap',
        choices: [{ file: 'memory.swap.max', value: v2(swap) }],
        ifMissing: { warn: 'linux.resources.memory.swap: ignored, the kernel has no swap accounting (no memory.swap.max)' },
      });
    }
    const reservation = byteLimit('linux.resources.memory.reservation', m.reservation);
    if (reservation !== undefined) writes.push(write('memory', 'memory.low', v2(reservation), 'linux.resources.memory.reservation'));
    if (m.kernel !== undefined && m.kernel !== 0) warnings.push('linux.resources.memory.kernel: ignored, cgroup v2 has no separate kernel memory limit');
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) warnings.push('linux.resources.memory.kernelTCP: ignored, cgroup v2 has no separate TCP memory limit');
    if (ranged('linux.resources.memory.swappiness', m.swappiness, 0, 100) !== undefined) {
      warnings.push('linux.resources.memory.swappiness: ignored, cgroup v2 has no per-cgroup swappiness');
    }
    if (m.disableOOMKiller === true) warnings.push('linux.resources.memory.disableOOMKiller: ignored, cgroup v2 cannot turn the OOM killer off');
  }
  const c = r.cpu;
  if (c !== undefined) {
    // cpu.shares' range in v1; the conversion leaves 1–10000 for cpu.weight.
    const shares = rangedOrUnset('linux.resources.cpu.shares', c.shares, 2, 262144);
    if (shares !== undefined) writes.push(write('cpu', 'cpu.weight', dec(sharesToWeight(shares)), 'linux.resources.cpu.shares'));
    const q = quota('linux.resources.cpu.quota', c.quota);
    const period = rangedOrUnset('linux.resources.cpu.period', c.period, 1, Number.MAX_SAFE_INTEGER);
    if (q !== undefined || period !== undefined) {
      // "quota period"; without a period the kernel keeps the one in force. A
      // period alone comes with "max", as runc writes it.
      const value = (q === undefined ? 'max' : v2(q)) + (period === undefined ? '' : ` ${dec(period)}`);
      writes.push(write('cpu', 'cpu.max', value, q !== undefined ? 'linux.resources.cpu.quota' : 'linux.resources.cpu.period'));
    }
    const burst = ranged('linux.resources.cpu.burst', c.burst, 0, Number.MAX_SAFE_INTEGER);
    if (burst !== undefined) writes.push(write('cpu', 'cpu.max.burst', dec(burst), 'linux.resources.cpu.burst'));
    const idle = ranged('linux.resources.cpu.idle', c.idle, 0, 1);
    if (idle !== undefined) writes.push(write('cpu', 'cpu.idle', dec(idle), 'linux.resources.cpu.idle'));
    for (const key of ['realtimeRuntime', 'realtimePeriod'] as const) {
      if (c[key] !== undefined && c[key] !== 0) {
        throw systemError('CGROUP_UNSUPPORTED', `linux.resources.cpu.${key}: cgroup v2 has no realtime CPU limits (they exist only in cgroup v1)`);
      }
    }
    if (c.cpus !== undefined && c.cpus !== '') writes.push(write('cpuset', 'cpuset.cpus', oneLine('linux.resources.cpu.cpus', c.cpus), 'linux.resources.cpu.cpus'));
    if (c.mems !== undefined && c.mems !== '') writes.push(write('cpuset', 'cpuset.mems', oneLine('linux.resources.cpu.mems', c.mems), 'linux.resources.cpu.mems'));
  }
  if (r.pids !== undefined) writes.push(write('pids', 'pids.max', v2(pidsLimit('linux.resources.pids.limit', r.pids.limit)), 'linux.resources.pids.limit'));
  planIo(r, writes, warnings);
  for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
    const field = `linux.resources.hugepageLimits[${i}]`;
    const size = hugepageSize(`${field}.pageSize`, h.pageSize);
    const limit = v2(byteLimit(`${field}.limit`, h.limit) ?? 0);
    writes.push(write('hugetlb', `hugetlb.${size}.max`, limit, `${field}.limit`));
    writes.push({ controller: 'hugetlb', field: `${field}.limit`, choices: [{ file: `hugetlb.${size}.rsvd.max`, value: limit }], ifMissing: 'skip' });
  }
  if (r.network !== undefined && (r.network.classID !== undefined || (r.network.priorities ?? []).length > 0)) {
    warnings.push('linux.resources.network: ignored, cgroup v2 has no net_cls or net_prio controller');
  }
  if (r.devices !== undefined && r.devices.length > 0) {
    notEnforced.push('devices: not enforced on cgroup v2 (needs eBPF)');
    warnings.push('linux.resources.devices: not enforced on cgroup v2 (needs an eBPF device program berth does not build)');
  }
  // Last, so that an explicit unified value wins over a converted one (as runc).
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const controller = unifiedKey(key);
    if (typeof value !== 'string') throw invalid('CGROUP_VALUE_INVALID', `linux.resources.unified[${JSON.stringify(key)}]: expected a string`);
    writes.push(write(controller, key, value, `linux.resources.unified[${JSON.stringify(key)}]`));
  }
  return { writes, warnings, notEnforced };
}

function planIo(r: LinuxResources, writes: CgroupWrite[], warnings: string[]): void {
  const b = r.blockIO;
  if (b === undefined) return;
  // BFQ takes the v1 weight as it is; otherwise io.weight (blk-iocost) takes
  // the converted one. runc prefers BFQ likewise.
  const weight = rangedOrUnset('linux.resources.blockIO.weight', b.weight, 10, 1000);
  if (weight !== undefined) {
    writes.push({
      controller: 'io', field: 'linux.resources.blockIO.weight',
      choices: [{ file: 'io.bfq.weight', value: dec(weight) }, { file: 'io.weight', value: dec(blkioWeightToIoWeight(weight)) }],
      ifMissing: 'error',
    });
  }
  if (b.leafWeight !== undefined && b.leafWeight !== 0) warnings.push('linux.resources.blockIO.leafWeight: ignored, cgroup v2 has no leaf weights');
  for (const [i, d] of (b.weightDevice ?? []).entries()) {
    const field = `linux.resources.blockIO.weightDevice[${i}]`;
    const dev = blockDevice(field, d);
    const w = rangedOrUnset(`${field}.weight`, d.weight, 10, 1000);
    if (w !== undefined) {
      writes.push({
        controller: 'io', field: `${field}.weight`,
        choices: [{ file: 'io.bfq.weight', value: `${dev} ${w}` }, { file: 'io.weight', value: `${dev} ${blkioWeightToIoWeight(w)}` }],
        ifMissing: 'error',
      });
    }
    if (d.leafWeight !== undefined && d.leafWeight !== 0) warnings.push(`${field}.leafWeight: ignored, cgroup v2 has no leaf weights`);
  }
  const throttles = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ] as const;
  for (const [key, name] of throttles) {
    for (const [i, t] of (b[key] ?? []).entries()) {
      const field = `linux.resources.blockIO.${key}[${i}]`;
      const rate = ranged(`${field}.rate`, t.rate, 0, Number.MAX_SAFE_INTEGER) ?? 0;
      // A rate of 0 means no limit in OCI; io.max spells that "max".
      writes.push(write('io', 'io.max', `${blockDevice(field, t)} ${name}=${rate === 0 ? 'max' : dec(rate)}`, field));
    }
  }
}

const FREEZE_TIMEOUT_MS = 5000;
const SIGKILL = osConstants.signals.SIGKILL;

function readList(path: string): string[] {
  return (readCgroupFile(path) ?? '').split(/\s+/).filter((s) => s !== '').map((s) => s.replace(/^\+/, ''));
}

export class CgroupV2 implements CgroupManager {
  readonly version = 2 as const;
  readonly path: string;
  /** The cgroup2 mount point: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts. */
  readonly mount: string;
  readonly dir: string;
  readonly warnings: string[] = [];
  private readonly emulated: boolean;
  private made: string[] = [];
  private applied: LinuxResources = {};

  constructor(path: string, mount: string, emulated: boolean) {
    this.path = path;
    this.mount = mount;
    this.dir = join(mount, path);
    this.emulated = emulated;
  }

  /** The mount's root and every directory between it and the container's, outermost first. */
  private ancestors(): string[] {
    const out = [this.mount];
    const parts = this.path.split('/').filter((p) => p !== '');
    for (const part of parts.slice(0, -1)) out.push(join(out[out.length - 1], part));
    return out;
  }

  /** controller → the first field that needs it. */
  private static requested(writes: readonly CgroupWrite[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const w of writes) if (w.controller !== 'cgroup' && !out.has(w.controller)) out.set(w.controller, w.field);
    return out;
  }

  private static unavailable(controller: string, field: string, dir: string): Error {
    const has = readList(join(dir, 'cgroup.controllers'));
    return systemError(
      'CGROUP_CONTROLLER_UNAVAILABLE',
      `${field}: needs the ${controller} controller, which is not available in ${dir} ` +
        `(cgroup.controllers: ${has.length > 0 ? has.join(' ') : 'none'}); a controller is missing there when the ` +
        "parent does not pass it down in cgroup.subtree_control or when it is bound to a cgroup v1 hierarchy (hybrid hosts)",
    );
  }

  create(resources: LinuxResources = {}): void {
    const requested = CgroupV2.requested(planV2(resources).writes); // refuse bad values before any mkdir
    const busy = this.pids();
    if (busy.length > 0) {
      throw conflict('CGROUP_NOT_EMPTY', `cgroup ${this.path} already exists and holds processes ${busy.join(', ')}; pick another cgroupsPath or remove it`);
    }
    try {
      const chain = this.ancestors();
      for (const [i, dir] of chain.entries()) {
        if (i > 0) this.made.push(...makeCgroupDirs(chain[i - 1], dir.slice(chain[i - 1].length)));
        this.enableControllers(dir, requested);
      }
      this.made.push(...makeCgroupDirs(chain[chain.length - 1], this.dir.slice(chain[chain.length - 1].length)));
      this.apply(resources);
    } catch (err) {
      this.removeMade();
      throw err;
    }
  }

  /**
   * Enable in `dir`'s cgroup.subtree_control every controller berth uses that
   * `dir` has. A requested one that is missing or refused is an error; any
   * other is a warning (stats will lack it).
   */
  private enableControllers(dir: string, requested: ReadonlyMap<string, string>): void {
    const available = new Set(readList(join(dir, 'cgroup.controllers')));
    for (const [controller, field] of requested) if (!available.has(controller)) throw CgroupV2.unavailable(controller, field, dir);
    const enabled = new Set(readList(join(dir, 'cgroup.subtree_control')));
    const want = [...new Set([...V2_CONTROLLERS, ...requested.keys()])].filter((c) => available.has(c) && !enabled.has(c));
    if (want.length === 0) return;
    const file = join(dir, 'cgroup.subtree_control');
    try {
      writeCgroupFile(file, want.map((c) => `+${c}`).join(' '), 'enable controllers');
      return;
    } catch {
      // One of them was refused: enable one at a time to learn which.
    }
    for (const c of want) {
      const field = requested.get(c);
      try {
        writeCgroupFile(file, `+${c}`, field ?? `enable the ${c} controller`);
      } catch (err) {
        // EBUSY: `dir` holds processes itself, which the kernel forbids for a
        // cgroup that hands controllers down; EINVAL for cpu: realtime tasks.
        if (field !== undefined) {
          throw systemError(
            'CGROUP_CONTROLLER_UNAVAILABLE',
            `${field}: cannot enable the ${c} controller in ${file} (${causeErrno(err)}); ` +
              'a cgroup that passes controllers down may not hold processes itself, so choose a cgroupsPath outside it',
            err,
          );
        }
        addWarning(this.warnings, `cannot enable the ${c} controller in ${file}; stats will lack it`);
      }
    }
  }

  update(resources: LinuxResources): void {
    if (!existsSync(this.dir)) throw notFound('CGROUP_NOT_FOUND', `cgroup ${this.path} does not exist`);
    const requested = CgroupV2.requested(planV2(resources, this.currentMemoryLimit()).writes);
    const available = new Set(readList(join(this.dir, 'cgroup.controllers')));
    for (const [controller, field] of requested) if (!available.has(controller)) throw CgroupV2.unavailable(controller, field, this.dir);
    this.apply(resources);
  }

  private currentMemoryLimit(): number | undefined {
    return readLimit(join(this.dir, 'memory.max'));
  }

  private apply(resources: LinuxResources): void {
    const plan = planV2(resources, this.currentMemoryLimit());
    for (const w of plan.warnings) addWarning(this.warnings, w);
    applyWrites(plan.writes, () => this.dir, this.warnings);
    this.applied = mergeResources(this.applied, resources);
  }

  procsFiles(): string[] {
    return [join(this.dir, 'cgroup.procs')];
  }

  pids(): number[] {
    return readPidsRecursive(this.dir);
  }

  stats(): CgroupStats {
    const f = (name: string): string => join(this.dir, name);
    const cpuStat = readKeyed(f('cpu.stat'));
    const usec = (key: string): number => (cpuStat?.get(key) ?? 0) * 1000;
    return {
      memory: {
        usage: readNumber(f('memory.current')) ?? 0,
        // memory.peak: kernel 5.19+.
        maxUsage: readNumber(f('memory.peak')),
        limit: readLimit(f('memory.max')),
        oomKills: readKeyed(f('memory.events'))?.get('oom_kill') ?? 0,
        inactiveFile: readKeyed(f('memory.stat'))?.get('inactive_file') ?? 0,
      },
      cpu: {
        usageNs: usec('usage_usec'),
        throttledPeriods: cpuStat?.get('nr_throttled') ?? 0,
        throttledNs: usec('throttled_usec'),
      },
      pids: {
        current: readNumber(f('pids.current')) ?? this.pids().length,
        limit: readLimit(f('pids.max')),
      },
      blockIO: this.blockIO(),
    };
  }

  /** io.stat: one line per device, "8:0 rbytes=4096 wbytes=0 rios=1 …". */
  private blockIO(): CgroupStats['blockIO'] {
    const io = { readBytes: 0, writeBytes: 0 };
    for (const line of (readCgroupFile(join(this.dir, 'io.stat')) ?? '').split('\n')) {
      for (const [, key, value] of line.matchAll(/\b([rw]bytes)=(\d+)/g)) {
        if (key === 'rbytes') io.readBytes += Number(value);
        else io.writeBytes += Number(value);
      }
    }
    return io;
  }

  limits(): CgroupLimits {
    const f = (name: string): string => join(this.dir, name);
    const text = (name: string): string | undefined => readCgroupFile(f(name))?.trim() || undefined;
    const memory = readLimit(f('memory.max'));
    // memory.swap.max counts swap alone; Docker and the OCI spec count memory plus swap.
    const swap = readCgroupFile(f('memory.swap.max')) === undefined ? undefined : readLimit(f('memory.swap.max'));
    const [quota, period] = (text('cpu.max') ?? '').split(/\s+/);
    const weight = readNumber(f('cpu.weight'));
    return dropUndefined({
      memory,
      memorySwap: memory !== undefined && swap !== undefined ? memory + swap : undefined,
      memoryReservation: readLimit(f('memory.low')) || undefined,
      cpuQuota: quota !== undefined && /^\d+$/.test(quota) ? Number(quota) : undefined,
      cpuPeriod: period !== undefined && /^\d+$/.test(period) ? Number(period) : undefined,
      cpuWeight: weight,
      // Empty on v2 means "whatever the parent has": no restriction of its own.
      cpusetCpus: text('cpuset.cpus'),
      cpusetMems: text('cpuset.mems'),
      pids: readLimit(f('pids.max')),
    });
  }

  oomKilled(): boolean {
    // memory.events counts this cgroup and those below it; absent without the memory controller.
    return (readKeyed(join(this.dir, 'memory.events'))?.get('oom_kill') ?? 0) > 0;
  }

  private freezeFile(what: string): string {
    const file = join(this.dir, 'cgroup.freeze');
    if (!existsSync(file)) {
      throw systemError('CGROUP_FREEZE_UNSUPPORTED', `${what}: ${file} does not exist; the cgroup v2 freezer needs Linux 5.2 or later`);
    }
    return file;
  }

  freeze(): void {
    const file = this.freezeFile('freeze');
    writeCgroupFile(file, '1', 'freeze');
    // The write only starts freezing; cgroup.events says when every task is stopped.
    const events = join(this.dir, 'cgroup.events');
    if (!waitUntil(() => readKeyed(events)?.get('frozen') === 1, FREEZE_TIMEOUT_MS)) {
      writeCgroupFile(file, '0', 'freeze');
      throw systemError('CGROUP_FREEZE_TIMEOUT', `freeze: ${events} did not report "frozen 1" within ${FREEZE_TIMEOUT_MS} ms; thawed again`);
    }
  }

  thaw(): void {
    writeCgroupFile(this.freezeFile('thaw'), '0', 'thaw');
  }

  frozen(): boolean {
    return readKeyed(join(this.dir, 'cgroup.events'))?.get('frozen') === 1;
  }

  /** cgroup.freeze: what pause asked for (cgroup.events says when it is done; a probe must not start meanwhile either). */
  freezerState(): { file: string; frozen: string } {
    return { file: join(this.dir, 'cgroup.freeze'), frozen: '1' };
  }

  kill(signal: NodeJS.Signals | number): void {
    const isKill = signal === 'SIGKILL' || signal === SIGKILL;
    // cgroup.kill (5.14+) kills the whole subtree atomically, forks included.
    if (isKill && existsSync(join(this.dir, 'cgroup.kill'))) {
      writeCgroupFile(join(this.dir, 'cgroup.kill'), '1', 'kill');
      return;
    }
    if (this.pids().length === 0) return;
    // Otherwise freeze so no fork escapes, signal each, thaw (as runc).
    let frozen = false;
    try {
      this.freeze();
      frozen = true;
    } catch {
      // No freezer: signal anyway; a fork in the meantime may escape.
    }
    try {
      signalPids(this.pids(), signal);
    } finally {
      if (frozen) this.thaw();
    }
  }

  destroy(): void {
    removeCgroup(this.dir, this.emulated);
    this.removeMade();
    removeDefaultParent(this.mount, this.path, this.emulated);
  }

  private removeMade(): void {
    for (const dir of [...this.made].reverse()) {
      if (dir === this.dir) removeCgroup(dir, this.emulated);
      else removeIfUnused(dir, this.emulated);
    }
    this.made = [];
  }

  describe(resources?: LinuxResources): string[] {
    const plan = planV2(resources ?? this.applied, this.currentMemoryLimit());
    const values = plan.writes.map((w) => formatWrite(w, this.dir)).join(' ');
    const lines = [`cgroup2: ${this.dir}${values === '' ? '' : `  ${values}`}`];
    const available = readList(join(this.mount, 'cgroup.controllers'));
    const requested = CgroupV2.requested(plan.writes);
    const enable = [...new Set([...V2_CONTROLLERS, ...requested.keys()])].filter((c) => available.includes(c));
    const parent = this.ancestors().at(-1) as string;
    lines.push(`cgroup2: subtree_control ${enable.length > 0 ? enable.map((c) => `+${c}`).join(' ') : '(no controllers available)'} from ${this.mount} down to ${parent}`);
    for (const [controller, field] of requested) {
      if (!available.includes(controller)) lines.push(`${controller}: not available in ${this.mount} (needed by ${field})`);
    }
    lines.push(...plan.notEnforced);
    for (const w of [...new Set([...plan.warnings, ...this.warnings])]) lines.push(`warning: ${w}`);
    return lines;
  }
}
