// Mounts: the container's filesystem view. OCI mount options are words
// ("ro", "nosuid", "rbind", "mode=755"); the kernel wants a flags word plus a
// data string, and some flags (read-only on a bind, propagation) only take
// effect in a second mount call. This module turns one into the other.
import { statfsSync } from 'node:fs';
import { posix } from 'node:path';
import { invalid } from '../util/errors.js';

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192,
  REC: 16384, SILENT: 32768, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19,
  SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

// option → [flags to set, flags to clear]
const FLAG_OPTIONS: Record<string, [number, number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0], dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0], async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0], remount: [MS.REMOUNT, 0], mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK],
  noatime: [MS.NOATIME, 0], atime: [0, MS.NOATIME], nodiratime: [MS.NODIRATIME, 0], diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0], norelatime: [0, MS.RELATIME], strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME],
  lazytime: [MS.LAZYTIME, 0], nolazytime: [0, MS.LAZYTIME], nosymfollow: [MS.NOSYMFOLLOW, 0], symfollow: [0, MS.NOSYMFOLLOW],
  silent: [MS.SILENT, 0], loud: [0, MS.SILENT],
  bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0],
};

export const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

export interface ParsedMountOptions {
  /** Flags for the first mount call. */
  flags: number;
  /** Propagation changes, each its own mount call after the mount. */
  propagation: number[];
  /** Everything the kernel takes as the data string (mode=755, size=64m…). */
  data: string[];
  isBind: boolean;
}

export function parseMountOptions(options: readonly string[] | undefined, field: string): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const [i, option] of (options ?? []).entries()) {
    if (option === '') throw invalid('InvalidMount', `${field}[${i}]: empty mount option`);
    const flag = FLAG_OPTIONS[option];
    if (flag) {
      flags = (flags | flag[0]) & ~flag[1];
    } else if (option in PROPAGATION_OPTIONS) {
      propagation.push(PROPAGATION_OPTIONS[option]!);
    } else {
      data.push(option);
    }
  }
  return { flags, propagation, data, isBind: (flags & MS.BIND) !== 0 };
}

/** Names of the flags set in a mount flags word, for the readable plan. */
export function mountFlagNames(flags: number): string[] {
  return Object.entries(MS).filter(([, bit]) => (flags & bit) === bit).map(([name]) => name.toLowerCase());
}

/** The flags a read-only/nosuid/… bind needs in its remount call. */
export const BIND_REMOUNT_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW;

/**
 * Files under /proc that may be mount destinations: the ones lxcfs emulates
 * (so that top and free inside a container see its own figures), as runc's
 * checkProcMount allows them. Anything else under /proc is refused: a mount
 * there could cover /proc/sys or /proc/sysrq-trigger with a writable file, or
 * hide the masks on /proc/kcore and friends.
 */
export const PROC_MOUNT_ALLOWED: readonly string[] = [
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid', '/proc/sys/crypto/fips_enabled',
];

/** What is mounted, as far as the /proc rule cares. */
export interface ProcMountKind {
  /** The filesystem type ('proc', 'tmpfs'…), or undefined for a bind. */
  type: string | undefined;
  isBind: boolean;
  /** For a bind: whether its source is on a procfs (a bind of the host's /proc is allowed on /proc, as runc allows it). */
  sourceIsProcfs?: boolean;
}

/**
 * runc's rule for mount destinations in /proc, in its words: /proc itself
 * takes only a procfs, below it only the files in PROC_MOUNT_ALLOWED.
 * `destination` must be absolute; it is normalised here. Undefined when the
 * mount is allowed.
 */
export function procMountProblem(destination: string, kind: ProcMountKind): string | undefined {
  const dest = posix.normalize(destination).replace(/(.)\/+$/, '$1');
  if (dest === '/proc') {
    if (kind.isBind ? kind.sourceIsProcfs === true : kind.type === 'proc') return undefined;
    return `"${dest}" cannot be mounted because it is not of type proc`;
  }
  if (!dest.startsWith('/proc/') || PROC_MOUNT_ALLOWED.includes(dest)) return undefined;
  return `"${dest}" cannot be mounted because it is inside /proc`;
}

/** PROC_SUPER_MAGIC, statfs(2). */
const PROC_SUPER_MAGIC = 0x9fa0;

/** Whether a host path is on a procfs; false when it cannot be read (a missing source is reported elsewhere). */
export function isProcfs(path: string): boolean {
  try {
    return statfsSync(path).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}
