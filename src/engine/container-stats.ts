// A container's resource usage at one moment, as `docker stats` reports it:
// CPU time and memory from its cgroup, network bytes from the devices in its
// network namespace, and the host's CPU time beside it, so that two samples
// give a CPU percentage the way Docker computes one.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { CgroupVersion } from '../runtime/cgroups/index.js';
import { cgroupSummaryOf } from './cgroups-view.js';
import { namespaceInode } from './namespaces-view.js';

export interface StatsSample {
  /** The host's CPU time (all CPUs, /proc/stat) in ns when the sample was read. */
  systemCpuNs: number;
  onlineCpus: number;
  cpuNs: number;
  /** Docker's MEM USAGE: the cgroup's usage without the page cache it would reclaim first. */
  memoryBytes: number;
  /** The cgroup's memory limit, or the host's memory when it has none (as Docker shows it). */
  memoryLimitBytes: number;
  pids: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
}

// The kernel reports /proc/stat in USER_HZ ticks, 100 per second on every Linux ABI.
const NS_PER_TICK = 1e9 / 100;

/** The host's CPU time: the first line of /proc/stat, user through steal, as Docker's daemon sums it. */
export function systemCpuNs(stat: string = readFileSync('/proc/stat', 'utf8')): number {
  const fields = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 8).map(Number);
  return fields.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) * NS_PER_TICK;
}

/**
 * Bytes received and sent on the devices of a network namespace, loopback
 * left out (as Docker counts only the container's interfaces). A container
 * that shares the host's network namespace counts nothing: its traffic is the
 * host's.
 */
export function networkBytes(pid: number): { rx: number; tx: number } {
  const none = { rx: 0, tx: 0 };
  if (pid <= 0 || namespaceInode(pid, 'net') === namespaceInode('self', 'net')) return none;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return none;
  }
  return parseNetDev(text);
}

/** /proc/net/dev: two header lines, then "  eth0: rxBytes rxPackets … (8 receive fields) txBytes …". */
export function parseNetDev(text: string): { rx: number; tx: number } {
  const total = { rx: 0, tx: 0 };
  for (const line of text.split('\n').slice(2)) {
    const [name, counters] = line.split(':');
    if (counters === undefined || name?.trim() === 'lo') continue;
    const values = counters.trim().split(/\s+/).map(Number);
    total.rx += values[0] ?? 0;
    total.tx += values[8] ?? 0;
  }
  return total;
}

/** One sample of a container's usage; pid 0 (not running) reads the cgroup alone. */
export function sampleStats(pid: number, cgroupsPath: string, version?: CgroupVersion): StatsSample {
  const { limits, usage } = cgroupSummaryOf(cgroupsPath, version);
  const net = networkBytes(pid);
  // Docker: usage minus inactive file pages, when that does not go below zero.
  const memory = usage.memoryInactiveFileBytes < usage.memoryBytes ? usage.memoryBytes - usage.memoryInactiveFileBytes : usage.memoryBytes;
  return {
    systemCpuNs: systemCpuNs(),
    // The host's online CPUs, not this process's affinity: the CPU time in /proc/stat is theirs.
    onlineCpus: cpus().length || 1,
    cpuNs: usage.cpuNs,
    memoryBytes: memory,
    memoryLimitBytes: Math.min(limits.memory ?? Infinity, totalmem()),
    pids: usage.pids,
    netRxBytes: net.rx,
    netTxBytes: net.tx,
    blockReadBytes: usage.blockReadBytes,
    blockWriteBytes: usage.blockWriteBytes,
  };
}

/**
 * Docker's CPU %: the container's share of the host's CPU time between two
 * samples, scaled by the number of CPUs, so one busy CPU reads 100%.
 */
export function cpuPercent(previous: StatsSample, current: StatsSample): number {
  const cpu = current.cpuNs - previous.cpuNs;
  const system = current.systemCpuNs - previous.systemCpuNs;
  return cpu > 0 && system > 0 ? (cpu / system) * current.onlineCpus * 100 : 0;
}

export function memoryPercent(s: StatsSample): number {
  return s.memoryLimitBytes > 0 ? (s.memoryBytes / s.memoryLimitBytes) * 100 : 0;
}
