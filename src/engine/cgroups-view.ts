// cgroups, as a person inspects them. A cgroup is a group of processes that
// the kernel accounts for and limits together: how much memory they may use,
// how much CPU time they get, how many processes they may make, how fast they
// may do block I/O. Every berth container has its own cgroup, /berth/<id>,
// below one parent shared by all containers. `berth cgroups`, `stats` and
// `inspect` read the limits in force and the usage from the cgroup's files
// through the runtime's drivers (cgroup v1 or v2, whichever the host has).
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { cgroupManager, type CgroupLimits, type CgroupManagerOptions, type CgroupVersion } from '../runtime/cgroups/index.js';
import { commandLine } from './namespaces-view.js';

export interface CgroupProcess {
  pid: number;
  command: string;
}

export interface CgroupUsage {
  memoryBytes: number;
  /** The peak, where the kernel keeps one (v1; v2 from Linux 5.19). */
  memoryMaxBytes?: number;
  /** Page cache the kernel reclaims first; Docker leaves it out of MEM USAGE. */
  memoryInactiveFileBytes: number;
  cpuNs: number;
  /** Tasks (threads included) where the pids controller counts them; otherwise processes. */
  pids: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  oomKills: number;
}

export interface CgroupSummary {
  /** The cgroup's path relative to each hierarchy's root ("/berth/<id>"). */
  path: string;
  version: CgroupVersion;
  /** Its directories: one on v2, one per mounted hierarchy on v1. */
  directories: string[];
  /** Whether the cgroup exists (it goes when its container is removed, or before it first starts). */
  exists: boolean;
  limits: CgroupLimits;
  usage: CgroupUsage;
  processes: CgroupProcess[];
}

/** Where a cgroup path lives on this host: one directory on v2, one per mounted hierarchy on v1. */
export function cgroupLocation(cgroupsPath: string, version?: CgroupVersion, opts: Pick<CgroupManagerOptions, 'root'> = {}): { path: string; version: CgroupVersion; directories: string[] } {
  const cgroup = cgroupManager(cgroupsPath, { ...opts, ...(version === undefined ? {} : { version }) });
  return { path: cgroup.path, version: cgroup.version, directories: cgroup.procsFiles().map((f) => dirname(f)) };
}

/**
 * One container's cgroup: where it is, its limits in force, what it uses and
 * which processes are in it. `version` is the host's unless given; `root`
 * stands in for /sys/fs/cgroup (tests).
 */
export function cgroupSummaryOf(cgroupsPath: string, version?: CgroupVersion, opts: Pick<CgroupManagerOptions, 'root'> = {}): CgroupSummary {
  const cgroup = cgroupManager(cgroupsPath, { ...opts, ...(version === undefined ? {} : { version }) });
  const directories = cgroup.procsFiles().map((f) => dirname(f));
  const pids = cgroup.pids().sort((a, b) => a - b);
  const s = cgroup.stats();
  return {
    path: cgroup.path,
    version: cgroup.version,
    directories,
    exists: directories.some((d) => existsSync(d)),
    limits: cgroup.limits(),
    usage: {
      memoryBytes: s.memory.usage,
      ...(s.memory.maxUsage !== undefined ? { memoryMaxBytes: s.memory.maxUsage } : {}),
      memoryInactiveFileBytes: s.memory.inactiveFile,
      cpuNs: s.cpu.usageNs,
      pids: s.pids.current,
      blockReadBytes: s.blockIO.readBytes,
      blockWriteBytes: s.blockIO.writeBytes,
      oomKills: s.memory.oomKills,
    },
    processes: pids.map((pid) => ({ pid, command: commandLine(pid) })),
  };
}

/** The CPUs a CFS quota amounts to (Docker's --cpus): quota 150000 per period 100000 is 1.5. */
export function cpusOf(limits: CgroupLimits): number | undefined {
  return limits.cpuQuota !== undefined && limits.cpuPeriod ? limits.cpuQuota / limits.cpuPeriod : undefined;
}
