// cgroup v1: one hierarchy per controller, each its own mount
// (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu, or co-mounted as cpu,cpuacct).
// A container's cgroup is the same relative path made in every hierarchy, and
// its process joins each by writing its pid to each cgroup.procs. Quirks the
// kernel imposes and this driver follows:
// - cpuset: a new cgroup starts with empty cpuset.cpus and cpuset.mems, and no
//   process may join until both are set, so they are copied down from the
//   parent, for intermediate directories too.
// - memory: memory.limit_in_bytes ≤ memory.memsw.limit_in_bytes must hold after
//   every single write, so the order of the two depends on the current limit.
//   memsw files exist only with swap accounting.
// - devices: a rule list is applied as "deny everything" and then each rule,
//   as runc does (the runtime appends the default devices' rules first:
//   withDefaultDeviceRules in defaults.ts).
// - freezer: FROZEN may read back as FREEZING for a while.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, notFound, systemError } from '../../util/errors.js';
import {
  addWarning, applyWrites, dropUndefined, formatWrite, makeCgroupDirs, readCgroupFile, readKeyed, readLimit, readNumber,
  readPidsRecursive, removeCgroup, removeDefaultParent, removeIfUnused, signalPids, waitUntil, write, writeCgroupFile,
  type CgroupWrite,
} from './cgroupfs.js';
import { V1_CONTROLLERS, type V1Controller } from './mounts.js';
import type { CgroupLimits, CgroupManager, CgroupStats, LinuxResources } from './types.js';
import {
  UNLIMITED, blockDevice, byteLimit, checkSwap, dec, deviceRule, hugepageSize, oneLine, pidsLimit, quota, ranged,
  rangedOrUnset, type Limit,
} from './values.js';
import { mergeResources } from './merge.js';

export interface V1Plan {
  writes: CgroupWrite[];
  warnings: string[];
}

const v1 = (l: Limit): string => (l === UNLIMITED ? '-1' : dec(l));

/**
 * linux.resources → the ordered writes of cgroup v1. Pure: `currentMemoryLimit`
 * (undefined when unlimited or unknown) is the only state it depends on.
 */
export function planV1(r: LinuxResources, currentMemoryLimit?: number): V1Plan {
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
    throw systemError(
      'CGROUP_UNIFIED_ON_V1',
      'linux.resources.unified: needs cgroup v2, but this host runs the cgroup v1 controllers (the v1 driver is in use)',
    );
  }
  planMemory(r, currentMemoryLimit, writes, warnings);
  planCpu(r, writes);
  if (r.pids !== undefined) writes.push(write('pids', 'pids.max', v1Pids(pidsLimit('linux.resources.pids.limit', r.pids.limit)), 'linux.resources.pids.limit'));
  planBlkio(r, writes, warnings);
  planDevices(r, writes);
  for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
    const field = `linux.resources.hugepageLimits[${i}]`;
    const size = hugepageSize(`${field}.pageSize`, h.pageSize);
    const limit = v1(byteLimit(`${field}.limit`, h.limit) ?? 0);
    writes.push(write('hugetlb', `hugetlb.${size}.limit_in_bytes`, limit, `${field}.limit`));
    // Reservations (kernel 5.7+) are limited alike, so a reserved page cannot escape the limit.
    writes.push({ controller: 'hugetlb', field: `${field}.limit`, choices: [{ file: `hugetlb.${size}.rsvd.limit_in_bytes`, value: limit }], ifMissing: 'skip' });
  }
  if (r.network?.classID !== undefined) {
    writes.push(write('net_cls', 'net_cls.classid', dec(ranged('linux.resources.network.classID', r.network.classID, 0, 0xffffffff) ?? 0), 'linux.resources.network.classID'));
  }
  for (const [i, p] of (r.network?.priorities ?? []).entries()) {
    const field = `linux.resources.network.priorities[${i}]`;
    const name = oneLine(`${field}.name`, p.name);
    const prio = ranged(`${field}.priority`, p.priority, 0, 0xffffffff) ?? 0;
    writes.push(write('net_prio', 'net_prio.ifpriomap', `${name} ${prio}`, field));
  }
  return { writes, warnings };
}

const v1Pids = (l: Limit): string => (l === UNLIMITED ? 'max' : dec(l));

function planMemory(r: LinuxResources, current: number | undefined, writes: CgroupWrite[], warnings: string[]): void {
  const m = r.memory;
  if (m === undefined) return;
  const limit = byteLimit('linux.resources.memory.limit', m.limit);
  let swap = byteLimit('linux.resources.memory.swap', m.swap);
  // As runc: "unlimited memory" with swap unset means memory+swap unlimited too.
  if (limit === UNLIMITED && swap === undefined) swap = UNLIMITED;
  if (swap !== undefined && swap !== UNLIMITED) checkSwap(swap, limit ?? current);
  const limitW = limit === undefined ? undefined : write('memory', 'memory.limit_in_bytes', v1(limit), 'linux.resources.memory.limit');
  const swapW: CgroupWrite | undefined = swap === undefined ? undefined : {
    controller: 'memory',
    field: 'linux.resources.memory.swap',
    choices: [{ file: 'memory.memsw.limit_in_bytes', value: v1(swap) }],
    ifMissing: { warn: 'linux.resources.memory.swap: ignored, the kernel has no swap accounting (no memory.memsw.limit_in_bytes; boot with swapaccount=1)' },
  };
  // The kernel keeps memory ≤ memory+swap after each write. Raising memory+swap
  // above the limit in force: write it first, then the memory limit. Otherwise
  // (lowering, or a fresh cgroup where both are unlimited) memory goes first.
  const swapFirst = limitW !== undefined && swap !== undefined && (swap === UNLIMITED || (current ?? Infinity) < swap);
  const ordered = swapFirst ? [swapW, limitW] : [limitW, swapW];
  for (const w of ordered) if (w !== undefined) writes.push(w);
  const reservation = byteLimit('linux.resources.memory.reservation', m.reservation);
  if (reservation !== undefined) writes.push(write('memory', 'memory.soft_limit_in_bytes', v1(reservation), 'linux.resources.memory.reservation'));
  if (m.kernel !== undefined && m.kernel !== 0) {
    // Kernel memory limits were deprecated in 5.4 and have no effect since 6.1; runc ignores them too.
    warnings.push('linux.resources.memory.kernel: ignored, kernel memory limits are deprecated by the kernel');
  }
  const tcp = byteLimit('linux.resources.memory.kernelTCP', m.kernelTCP);
  if (tcp !== undefined) {
    writes.push({
      controller: 'memory', field: 'linux.resources.memory.kernelTCP',
      choices: [{ file: 'memory.kmem.tcp.limit_in_bytes', value: v1(tcp) }],
      ifMissing: { warn: 'linux.resources.memory.kernelTCP: ignored, this kernel has no memory.kmem.tcp.limit_in_bytes' },
    });
  }
  const swappiness = ranged('linux.resources.memory.swappiness', m.swappiness, 0, 100);
  if (swappiness !== undefined) writes.push(write('memory', 'memory.swappiness', dec(swappiness), 'linux.resources.memory.swappiness'));
  if (m.disableOOMKiller === true) writes.push(write('memory', 'memory.oom_control', '1', 'linux.resources.memory.disableOOMKiller'));
}

function planCpu(r: LinuxResources, writes: CgroupWrite[]): void {
  const c = r.cpu;
  if (c === undefined) return;
  // Out-of-range shares are clamped by the v1 kernel itself, as runc relies on.
  const shares = rangedOrUnset('linux.resources.cpu.shares', c.shares, 1, Number.MAX_SAFE_INTEGER);
  if (shares !== undefined) writes.push(write('cpu', 'cpu.shares', dec(shares), 'linux.resources.cpu.shares'));
  // The period first: the kernel checks a quota against the period in force.
  const period = rangedOrUnset('linux.resources.cpu.period', c.period, 1, Number.MAX_SAFE_INTEGER);
  if (period !== undefined) writes.push(write('cpu', 'cpu.cfs_period_us', dec(period), 'linux.resources.cpu.period'));
  const q = quota('linux.resources.cpu.quota', c.quota);
  if (q !== undefined) writes.push(write('cpu', 'cpu.cfs_quota_us', v1(q), 'linux.resources.cpu.quota'));
  const burst = ranged('linux.resources.cpu.burst', c.burst, 0, Number.MAX_SAFE_INTEGER);
  if (burst !== undefined) writes.push(write('cpu', 'cpu.cfs_burst_us', dec(burst), 'linux.resources.cpu.burst'));
  // Realtime: the period first for the same reason.
  const rtPeriod = rangedOrUnset('linux.resources.cpu.realtimePeriod', c.realtimePeriod, 1, Number.MAX_SAFE_INTEGER);
  if (rtPeriod !== undefined) writes.push(write('cpu', 'cpu.rt_period_us', dec(rtPeriod), 'linux.resources.cpu.realtimePeriod'));
  const rtRuntime = quota('linux.resources.cpu.realtimeRuntime', c.realtimeRuntime);
  if (rtRuntime !== undefined) writes.push(write('cpu', 'cpu.rt_runtime_us', v1(rtRuntime), 'linux.resources.cpu.realtimeRuntime'));
  const idle = ranged('linux.resources.cpu.idle', c.idle, 0, 1);
  if (idle !== undefined) writes.push(write('cpu', 'cpu.idle', dec(idle), 'linux.resources.cpu.idle'));
  if (c.cpus !== undefined && c.cpus !== '') writes.push(write('cpuset', 'cpuset.cpus', oneLine('linux.resources.cpu.cpus', c.cpus), 'linux.resources.cpu.cpus'));
  if (c.mems !== undefined && c.mems !== '') writes.push(write('cpuset', 'cpuset.mems', oneLine('linux.resources.cpu.mems', c.mems), 'linux.resources.cpu.mems'));
}

function planBlkio(r: LinuxResources, writes: CgroupWrite[], warnings: string[]): void {
  const b = r.blockIO;
  if (b === undefined) return;
  // blkio.weight belongs to CFQ (gone since 5.0), blkio.bfq.weight to BFQ: whichever this kernel has.
  const weight = rangedOrUnset('linux.resources.blockIO.weight', b.weight, 10, 1000);
  if (weight !== undefined) {
    writes.push({
      controller: 'blkio', field: 'linux.resources.blockIO.weight',
      choices: [{ file: 'blkio.weight', value: dec(weight) }, { file: 'blkio.bfq.weight', value: dec(weight) }],
      ifMissing: 'error',
    });
  }
  const leaf = rangedOrUnset('linux.resources.blockIO.leafWeight', b.leafWeight, 10, 1000);
  if (leaf !== undefined) {
    writes.push({
      controller: 'blkio', field: 'linux.resources.blockIO.leafWeight',
      choices: [{ file: 'blkio.leaf_weight', value: dec(leaf) }],
      ifMissing: { warn: 'linux.resources.blockIO.leafWeight: ignored, this kernel has no blkio.leaf_weight (it went with the CFQ scheduler)' },
    });
  }
  for (const [i, d] of (b.weightDevice ?? []).entries()) {
    const field = `linux.resources.blockIO.weightDevice[${i}]`;
    const dev = blockDevice(field, d);
    const w = rangedOrUnset(`${field}.weight`, d.weight, 10, 1000);
    if (w !== undefined) {
      writes.push({
        controller: 'blkio', field: `${field}.weight`,
        choices: [{ file: 'blkio.weight_device', value: `${dev} ${w}` }, { file: 'blkio.bfq.weight_device', value: `${dev} ${w}` }],
        ifMissing: 'error',
      });
    }
    if (d.leafWeight !== undefined && d.leafWeight !== 0) {
      addWarning(warnings, `${field}.leafWeight: ignored, leaf weights went with the CFQ scheduler`);
    }
  }
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ] as const;
  for (const [key, file] of throttles) {
    for (const [i, t] of (b[key] ?? []).entries()) {
      const field = `linux.resources.blockIO.${key}[${i}]`;
      const rate = ranged(`${field}.rate`, t.rate, 0, Number.MAX_SAFE_INTEGER) ?? 0;
      // A rate of 0 removes the device's rule.
      writes.push(write('blkio', file, `${blockDevice(field, t)} ${dec(rate)}`, field));
    }
  }
}

function planDevices(r: LinuxResources, writes: CgroupWrite[]): void {
  if (r.devices === undefined) return;
  // Start from nothing and allow what the rules allow, as runc does, so the
  // result does not depend on what the cgroup inherited. During update() of a
  // running container this leaves a moment with every device denied.
  writes.push(write('devices', 'devices.deny', 'a', 'linux.resources.devices'));
  for (const [i, rule] of r.devices.entries()) {
    const field = `linux.resources.devices[${i}]`;
    writes.push(write('devices', rule.allow ? 'devices.allow' : 'devices.deny', deviceRule(field, rule), field));
  }
}

// Where pids() and stats() read membership: any hierarchy will do, the
// first of these that is mounted.
const MEMBERSHIP_ORDER: readonly V1Controller[] = ['pids', 'memory', 'freezer', 'cpu', 'cpuacct', 'cpuset', 'devices', 'blkio'];
const FREEZE_TIMEOUT_MS = 5000;

export class CgroupV1 implements CgroupManager {
  readonly version = 1 as const;
  readonly path: string;
  readonly warnings: string[] = [];
  /** controller → mount point of its hierarchy. */
  private readonly mounts: ReadonlyMap<V1Controller, string>;
  private readonly emulated: boolean;
  /** Directories create() made, outermost first, so destroy() can remove the ancestors it made. */
  private made: string[] = [];
  private applied: LinuxResources = {};

  constructor(path: string, mounts: ReadonlyMap<V1Controller, string>, emulated: boolean) {
    this.path = path;
    this.mounts = mounts;
    this.emulated = emulated;
  }

  /** The container's directory in the hierarchy of `controller`, if that hierarchy is mounted. */
  dir(controller: string): string | undefined {
    const mount = this.mounts.get(controller as V1Controller);
    return mount === undefined ? undefined : join(mount, this.path);
  }

  /** One entry per mounted hierarchy (co-mounted controllers share one directory). */
  private hierarchies(): { controllers: V1Controller[]; mount: string; dir: string }[] {
    const byMount = new Map<string, V1Controller[]>();
    for (const c of V1_CONTROLLERS) {
      const mount = this.mounts.get(c);
      if (mount !== undefined) byMount.set(mount, [...(byMount.get(mount) ?? []), c]);
    }
    return [...byMount].map(([mount, controllers]) => ({ controllers, mount, dir: join(mount, this.path) }));
  }

  private requireControllers(writes: readonly CgroupWrite[]): void {
    for (const w of writes) {
      if (!this.mounts.has(w.controller as V1Controller)) {
        throw systemError(
          'CGROUP_CONTROLLER_UNAVAILABLE',
          `${w.field}: needs the ${w.controller} controller, which has no cgroup v1 hierarchy on this host (not in /proc/self/mountinfo)`,
        );
      }
    }
  }

  private requireDir(controller: V1Controller, what: string): string {
    const dir = this.dir(controller);
    if (dir === undefined) {
      throw systemError('CGROUP_CONTROLLER_UNAVAILABLE', `${what}: needs the ${controller} controller, which has no cgroup v1 hierarchy on this host`);
    }
    return dir;
  }

  private currentMemoryLimit(): number | undefined {
    const dir = this.dir('memory');
    return dir === undefined ? undefined : readLimit(join(dir, 'memory.limit_in_bytes'));
  }

  create(resources: LinuxResources = {}): void {
    this.requireControllers(planV1(resources).writes); // refuse bad values before any mkdir
    const busy = this.pids();
    if (busy.length > 0) {
      throw conflict('CGROUP_NOT_EMPTY', `cgroup ${this.path} already exists and holds processes ${busy.join(', ')}; pick another cgroupsPath or remove it`);
    }
    try {
      for (const h of this.hierarchies()) this.made.push(...makeCgroupDirs(h.mount, this.path));
      this.inheritCpuset();
      this.apply(resources);
    } catch (err) {
      this.removeMade();
      throw err;
    }
  }

  update(resources: LinuxResources): void {
    if (!this.exists()) throw notFound('CGROUP_NOT_FOUND', `cgroup ${this.path} does not exist`);
    this.requireControllers(planV1(resources, this.currentMemoryLimit()).writes);
    this.apply(resources);
  }

  private apply(resources: LinuxResources): void {
    const plan = planV1(resources, this.currentMemoryLimit());
    for (const w of plan.warnings) addWarning(this.warnings, w);
    applyWrites(plan.writes, (c) => this.dir(c) as string, this.warnings);
    this.applied = mergeResources(this.applied, resources);
  }

  /**
   * Copy cpuset.cpus and cpuset.mems into each directory from the hierarchy's
   * top down to the container's, where they are empty (the kernel starts every
   * new cpuset cgroup so, and refuses processes until both are set).
   */
  private inheritCpuset(): void {
    const mount = this.mounts.get('cpuset');
    if (mount === undefined) return;
    let dir = mount;
    for (const part of this.path.split('/').filter((p) => p !== '')) {
      const parent = dir;
      dir = join(dir, part);
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if ((readCgroupFile(join(dir, file)) ?? '').trim() !== '') continue;
        const inherited = (readCgroupFile(join(parent, file)) ?? '').trim();
        writeCgroupFile(join(dir, file), inherited, `linux.resources.cpu.${file === 'cpuset.cpus' ? 'cpus' : 'mems'} (copied from ${parent})`);
      }
    }
  }

  private exists(): boolean {
    return this.hierarchies().some((h) => existsSync(h.dir));
  }

  procsFiles(): string[] {
    return this.hierarchies().map((h) => join(h.dir, 'cgroup.procs'));
  }

  private membershipDir(): string | undefined {
    for (const c of MEMBERSHIP_ORDER) {
      const dir = this.dir(c);
      if (dir !== undefined) return dir;
    }
    return undefined;
  }

  pids(): number[] {
    const dir = this.membershipDir();
    return dir === undefined ? [] : readPidsRecursive(dir);
  }

  stats(): CgroupStats {
    // Each reader gets undefined for a hierarchy that is not mounted.
    const at = <T>(controller: V1Controller, file: string, read: (path: string) => T | undefined): T | undefined => {
      const dir = this.dir(controller);
      return dir === undefined ? undefined : read(join(dir, file));
    };
    const cpuStat = at('cpu', 'cpu.stat', readKeyed);
    return {
      memory: {
        usage: at('memory', 'memory.usage_in_bytes', readNumber) ?? 0,
        maxUsage: at('memory', 'memory.max_usage_in_bytes', readNumber),
        limit: at('memory', 'memory.limit_in_bytes', readLimit),
        oomKills: at('memory', 'memory.oom_control', readKeyed)?.get('oom_kill') ?? 0,
        // total_: this cgroup and those below it, as usage_in_bytes counts.
        inactiveFile: at('memory', 'memory.stat', readKeyed)?.get('total_inactive_file') ?? 0,
      },
      cpu: {
        usageNs: at('cpuacct', 'cpuacct.usage', readNumber) ?? 0,
        throttledPeriods: cpuStat?.get('nr_throttled') ?? 0,
        throttledNs: cpuStat?.get('throttled_time') ?? 0,
      },
      pids: {
        current: at('pids', 'pids.current', readNumber) ?? this.pids().length,
        limit: at('pids', 'pids.max', readLimit),
      },
      blockIO: this.blockIO(),
    };
  }

  /**
   * blkio counts bytes per device and operation ("8:0 Read 4096"). The
   * throttle files count every I/O whatever the scheduler; the others exist
   * only under CFQ or BFQ.
   */
  private blockIO(): CgroupStats['blockIO'] {
    const dir = this.dir('blkio');
    const io = { readBytes: 0, writeBytes: 0 };
    if (dir === undefined) return io;
    const files = ['blkio.throttle.io_service_bytes_recursive', 'blkio.io_service_bytes_recursive', 'blkio.bfq.io_service_bytes_recursive'];
    const text = files.map((f) => readCgroupFile(join(dir, f))).find((t) => t !== undefined) ?? '';
    for (const line of text.split('\n')) {
      const [device, op, value] = line.trim().split(/\s+/);
      if (device === undefined || !device.includes(':') || value === undefined) continue;
      if (op?.toLowerCase() === 'read') io.readBytes += Number(value) || 0;
      if (op?.toLowerCase() === 'write') io.writeBytes += Number(value) || 0;
    }
    return io;
  }

  limits(): CgroupLimits {
    const at = <T>(controller: V1Controller, file: string, read: (path: string) => T | undefined): T | undefined => {
      const dir = this.dir(controller);
      return dir === undefined ? undefined : read(join(dir, file));
    };
    const text = (path: string): string | undefined => readCgroupFile(path)?.trim() || undefined;
    // cpuset: create() copies the root's sets down, so only a narrower set is a restriction.
    const narrowed = (file: string): string | undefined => {
      const mine = at('cpuset', file, text);
      const mount = this.mounts.get('cpuset');
      return mount !== undefined && mine !== text(join(mount, file)) ? mine : undefined;
    };
    const quotaUs = at('cpu', 'cpu.cfs_quota_us', readNumber);
    return dropUndefined({
      memory: at('memory', 'memory.limit_in_bytes', readLimit),
      memorySwap: at('memory', 'memory.memsw.limit_in_bytes', readLimit),
      memoryReservation: at('memory', 'memory.soft_limit_in_bytes', readLimit),
      cpuQuota: quotaUs !== undefined && quotaUs > 0 ? quotaUs : undefined,
      cpuPeriod: at('cpu', 'cpu.cfs_period_us', readNumber),
      cpuShares: at('cpu', 'cpu.shares', readNumber),
      cpusetCpus: narrowed('cpuset.cpus'),
      cpusetMems: narrowed('cpuset.mems'),
      pids: at('pids', 'pids.max', readLimit),
    });
  }

  oomKilled(): boolean {
    const mem = this.dir('memory');
    if (mem === undefined) return false;
    const control = readKeyed(join(mem, 'memory.oom_control'));
    const kills = control?.get('oom_kill');
    if (kills !== undefined) return kills > 0;
    // Kernels before 4.13 do not count kills. The next best signal: the limit
    // was hit (failcnt) or the cgroup is under OOM right now. It can say yes
    // when reclaim coped without killing, never no after a kill.
    return (control?.get('under_oom') ?? 0) > 0 || (readNumber(join(mem, 'memory.failcnt')) ?? 0) > 0;
  }

  freeze(): void {
    const state = join(this.requireDir('freezer', 'freeze'), 'freezer.state');
    // Writing FROZEN again while the state reads FREEZING retries the tasks
    // that could not be frozen yet (as runc does).
    const frozen = waitUntil(() => {
      writeCgroupFile(state, 'FROZEN', 'freeze');
      return readCgroupFile(state)?.trim() === 'FROZEN';
    }, FREEZE_TIMEOUT_MS);
    if (!frozen) {
      writeCgroupFile(state, 'THAWED', 'freeze');
      throw systemError('CGROUP_FREEZE_TIMEOUT', `freeze: ${state} stayed FREEZING for ${FREEZE_TIMEOUT_MS} ms; thawed again`);
    }
  }

  thaw(): void {
    writeCgroupFile(join(this.requireDir('freezer', 'thaw'), 'freezer.state'), 'THAWED', 'thaw');
  }

  frozen(): boolean {
    const dir = this.dir('freezer');
    return dir !== undefined && readCgroupFile(join(dir, 'freezer.state'))?.trim() === 'FROZEN';
  }

  freezerState(): { file: string; frozen: string } | undefined {
    const dir = this.dir('freezer');
    return dir === undefined ? undefined : { file: join(dir, 'freezer.state'), frozen: 'FROZEN' };
  }

  kill(signal: NodeJS.Signals | number): void {
    if (this.pids().length === 0) return;
    // Freeze first so that no process can fork a child we would miss; a
    // frozen process receives the signal when thawed (runc does the same).
    let frozen = false;
    if (this.mounts.has('freezer')) {
      try {
        this.freeze();
        frozen = true;
      } catch {
        // Signal without the freezer: a fork in the meantime may escape.
      }
    }
    try {
      signalPids(this.pids(), signal);
    } finally {
      if (frozen) this.thaw();
    }
  }

  destroy(): void {
    for (const h of this.hierarchies()) removeCgroup(h.dir, this.emulated);
    this.removeMade();
    for (const h of this.hierarchies()) removeDefaultParent(h.mount, this.path, this.emulated);
  }

  private removeMade(): void {
    const leaves = new Set(this.hierarchies().map((h) => h.dir));
    for (const dir of [...this.made].reverse()) {
      if (leaves.has(dir)) removeCgroup(dir, this.emulated);
      else removeIfUnused(dir, this.emulated);
    }
    this.made = [];
  }

  describe(resources?: LinuxResources): string[] {
    const r = resources ?? this.applied;
    // Show the order create() would use; the limit in force matters only to
    // check a swap limit given without a memory limit.
    const plan = planV1(r, r.memory?.limit === undefined ? this.currentMemoryLimit() : undefined);
    const lines: string[] = [];
    for (const h of this.hierarchies()) {
      const here = plan.writes.filter((w) => h.controllers.includes(w.controller as V1Controller));
      const values = here.map((w) => formatWrite(w, h.dir)).join(' ');
      lines.push(`${h.controllers.join(',')}: ${h.dir}${values === '' ? '' : `  ${values}`}`);
    }
    const unmounted = new Map<string, string>();
    for (const w of plan.writes) if (!this.mounts.has(w.controller as V1Controller) && !unmounted.has(w.controller)) unmounted.set(w.controller, w.field);
    for (const [controller, field] of unmounted) lines.push(`${controller}: not mounted (needed by ${field})`);
    for (const w of [...new Set([...plan.warnings, ...this.warnings])]) lines.push(`warning: ${w}`);
    return lines;
  }
}
