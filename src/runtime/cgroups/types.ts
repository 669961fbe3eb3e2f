// Control groups (cgroups) are how the kernel accounts for and limits the
// resources of a set of processes: a cgroup is a directory in a cgroup
// filesystem, a process joins it by writing its pid to `cgroup.procs`, and each
// controller (memory, cpu, pids, io…) exposes its limits and counters as files
// in that directory. Two generations exist side by side: cgroup v1 mounts one
// hierarchy per controller (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu…), cgroup
// v2 one single hierarchy where a parent decides, in cgroup.subtree_control,
// which controllers its children get. This file fixes the vocabulary both
// drivers share; v1.ts and v2.ts implement it.

export type CgroupVersion = 1 | 2;

/**
 * OCI runtime-spec `linux.resources` (config-linux.md, "Control groups").
 * Memory in bytes, CPU times in microseconds. As runc does, an absent field or
 * 0 means "leave as it is" and -1 means unlimited where the spec allows it.
 */
export interface LinuxResources {
  /** Device access rules, in order. Absent: the device controller is not touched. */
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCpu;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  /** cgroup v1 only (net_cls, net_prio); cgroup v2 has no network controller. */
  network?: LinuxNetwork;
  /** cgroup v2 only: file name → value, written verbatim after everything else. */
  unified?: Record<string, string>;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  /** 'a' (all), 'c' (char) or 'b' (block); absent means 'a'. */
  type?: 'a' | 'b' | 'c';
  /** Absent, null or -1: any (some tools write null for "any"). */
  major?: number | null;
  minor?: number | null;
  /** Some of "rwm"; absent means "rwm". */
  access?: string;
}

export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  /** Memory plus swap (not swap alone), as in cgroup v1's memsw. */
  swap?: number;
  /** Deprecated by the kernel; ignored with a warning, as runc does. */
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

export interface LinuxCpu {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface LinuxPids {
  /** ≤ 0: unlimited. */
  limit: number;
}

export interface LinuxWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface LinuxBlockIO {
  /** 10–1000. */
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  /** "2MB", "1GB", "64KB". */
  pageSize: string;
  limit: number;
}

export interface LinuxNetwork {
  classID?: number;
  priorities?: { name: string; priority: number }[];
}

export interface CgroupStats {
  /**
   * Zero when the memory controller is not available to this cgroup.
   * `inactiveFile`: page cache the kernel would reclaim first (memory.stat),
   * which Docker subtracts from `usage` for its MEM USAGE.
   */
  memory: { usage: number; maxUsage?: number; limit?: number; oomKills: number; inactiveFile: number };
  cpu: { usageNs: number; throttledPeriods: number; throttledNs: number };
  /** Without a pids controller, `current` counts processes (not threads). */
  pids: { current: number; limit?: number };
  /** Bytes read from and written to block devices, summed over devices; zero without the blkio/io controller. */
  blockIO: { readBytes: number; writeBytes: number };
}

/**
 * The limits in force, read back from the cgroup's files (what the kernel
 * enforces, not what was asked for). A field is absent when it is unlimited,
 * unrestricted or its controller is not available.
 */
export interface CgroupLimits {
  /** Bytes. */
  memory?: number;
  /** Memory plus swap in bytes, as linux.resources.memory.swap and Docker's --memory-swap count it. */
  memorySwap?: number;
  /** Soft limit in bytes (v1 memory.soft_limit_in_bytes, v2 memory.low). */
  memoryReservation?: number;
  /** CFS bandwidth: `cpuQuota` µs of CPU time per `cpuPeriod` µs; absent quota means no cap. */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** cgroup v1's relative weight (default 1024). */
  cpuShares?: number;
  /** cgroup v2's relative weight (1–10000, default 100). */
  cpuWeight?: number;
  /** Only when narrower than the hierarchy root's (v1 copies the root's into every cgroup). */
  cpusetCpus?: string;
  cpusetMems?: string;
  pids?: number;
}

/**
 * One container's cgroup. Lifecycle: create() before the container's first
 * process exists; the native helper then writes that pid into every path of
 * procsFiles(); while it runs, update/stats/freeze/thaw/kill; after it exits
 * the runtime reads oomKilled() and stats(); destroy() on delete.
 *
 * Invariants: `path` never changes; no method but create() makes a directory;
 * destroy() removes the container's directory and every cgroup below it (a
 * container may make its own), and is safe to call any number of times, also
 * on a manager whose cgroup never existed. Ancestors such as /berth are shared
 * by every container and removed only when this instance made them and they are
 * empty.
 */
export interface CgroupManager {
  readonly version: CgroupVersion;
  /** The OCI cgroupsPath, normalised: "/berth/<id>". */
  readonly path: string;
  /** Limits that were asked for but could not be applied on this host, in words. */
  readonly warnings: readonly string[];
  /** Make the directories in every hierarchy needed and apply the limits. */
  create(resources?: LinuxResources): void;
  /** Change the limits of an existing cgroup; fields absent are left as they are. */
  update(resources: LinuxResources): void;
  /** Absolute cgroup.procs paths the container's first process must be written to. */
  procsFiles(): string[];
  /** Every process in this cgroup and the cgroups below it. */
  pids(): number[];
  stats(): CgroupStats;
  /** The limits the kernel enforces now (read from the cgroup's files). */
  limits(): CgroupLimits;
  /** Whether the kernel's OOM killer killed a process in this cgroup. */
  oomKilled(): boolean;
  /** Stop every process (they keep their state and memory) until thaw(); returns once the kernel reports them stopped. */
  freeze(): void;
  thaw(): void;
  /** Whether the kernel reports the cgroup frozen (a container is "paused"); false without a freezer. */
  frozen(): boolean;
  /** The file whose content starts with `frozen` while the cgroup is frozen (for a monitor that must not probe a paused container); undefined without a freezer. */
  freezerState(): { file: string; frozen: string } | undefined;
  /** Signal every process, including those forked while signalling. */
  kill(signal: NodeJS.Signals | number): void;
  destroy(): void;
  /**
   * Human-readable lines: each directory and the values written there, e.g.
   * "memory: /sys/fs/cgroup/memory/berth/x  memory.limit_in_bytes=104857600".
   * With `resources`, what create(resources) would write (a dry run);
   * without, what this instance has applied.
   */
  describe(resources?: LinuxResources): string[];
}
