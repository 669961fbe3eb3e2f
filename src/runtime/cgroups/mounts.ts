// Where the cgroup filesystems are. /proc/self/mountinfo lists every mount this
// process sees: a cgroup v1 hierarchy is a mount of type "cgroup" whose super
// options name the controllers bound to it ("rw,cpu,cpuacct"); cgroup v2 is one
// mount of type "cgroup2". A host is "pure v2" (unified) when /sys/fs/cgroup
// itself is cgroup2; "hybrid" hosts mount v1 hierarchies there and a v2 tree
// with few or no controllers at /sys/fs/cgroup/unified; berth drives those with
// v1. Also here: the one check of a container's cgroupsPath.
import { readFileSync, readdirSync, realpathSync, statSync, statfsSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { invalid, systemError } from '../../util/errors.js';
import type { CgroupVersion } from './types.js';

export interface MountInfo {
  mountPoint: string;
  /** The directory of the filesystem that is mounted there (not "/" inside a cgroup namespace or for bind mounts). */
  root: string;
  fsType: string;
  source: string;
  superOptions: string[];
}

/** cgroup v1 controllers berth creates a directory in, in the order it does. */
export const V1_CONTROLLERS = [
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio',
] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

// Mountinfo escapes space, tab, newline and backslash in paths as \ooo.
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse proc(5) mountinfo: "36 35 98:0 /root /mnt opts [optional…] - fstype source superopts". */
export function parseMountinfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const sep = fields.indexOf('-', 6);
    if (fields.length < 10 || sep < 0 || sep + 3 > fields.length) continue;
    mounts.push({
      root: unescapeOctal(fields[3]),
      mountPoint: unescapeOctal(fields[4]),
      fsType: fields[sep + 1],
      source: unescapeOctal(fields[sep + 2]),
      superOptions: (fields[sep + 3] ?? '').split(','),
    });
  }
  return mounts;
}

export function readMountinfo(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}

/** 2 only when /sys/fs/cgroup itself is cgroup2 (pure v2); hybrid and legacy hosts are 1. */
export function detectCgroupVersion(mountinfo: string = readMountinfo()): CgroupVersion {
  const mounts = parseMountinfo(mountinfo);
  // Mounts stack: the last one listed on a mount point is the one visible.
  const top = mounts.filter((m) => m.mountPoint === '/sys/fs/cgroup').at(-1);
  if (top?.fsType === 'cgroup2') return 2;
  if (mounts.some((m) => m.fsType === 'cgroup')) return 1;
  if (mounts.some((m) => m.fsType === 'cgroup2')) return 2;
  throw systemError('CGROUP_NOT_MOUNTED', 'no cgroup filesystem is mounted (nothing of type cgroup or cgroup2 in /proc/self/mountinfo)');
}

/** controller → mount point, for the v1 controllers berth uses. */
export function v1MountsFromMountinfo(mountinfo: string): Map<V1Controller, string> {
  const found = new Map<V1Controller, string>();
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fsType !== 'cgroup') continue;
    for (const opt of m.superOptions) {
      const c = V1_CONTROLLERS.find((k) => k === opt);
      // A hierarchy mounted twice (bind mounts): the first is as good as any.
      if (c !== undefined && !found.has(c)) found.set(c, m.mountPoint);
    }
  }
  return found;
}

/**
 * The same map for a directory laid out like /sys/fs/cgroup (tests use a fake
 * one): each entry is named after the controllers mounted there ("memory",
 * "cpu,cpuacct"), and symlinks such as cpu → cpu,cpuacct resolve to the same place.
 */
export function v1MountsUnder(root: string): Map<V1Controller, string> {
  const found = new Map<V1Controller, string>();
  for (const name of readdirSync(root).sort()) {
    const full = join(root, name);
    let real: string;
    try {
      if (!statSync(full).isDirectory()) continue;
      real = realpathSync(full);
    } catch {
      continue;
    }
    for (const part of name.split(',')) {
      const c = V1_CONTROLLERS.find((k) => k === part);
      if (c !== undefined && !found.has(c)) found.set(c, real);
    }
  }
  return found;
}

/** The cgroup2 mount point: /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid ones. */
export function v2MountFromMountinfo(mountinfo: string): string {
  const points = parseMountinfo(mountinfo).filter((m) => m.fsType === 'cgroup2').map((m) => m.mountPoint);
  const best = points.find((p) => p === '/sys/fs/cgroup') ?? points.find((p) => p === '/sys/fs/cgroup/unified') ?? points[0];
  if (best === undefined) throw systemError('CGROUP_NOT_MOUNTED', 'no cgroup2 filesystem is mounted (see /proc/self/mountinfo)');
  return best;
}

/** For a directory given as root: a v2 tree has cgroup.controllers at its top, a v1 layout has none. */
export function versionOfRoot(root: string): CgroupVersion {
  return existsSync(join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** Whether `path` is on a real cgroup filesystem (false for the plain directories of a test layout). */
export function onCgroupFs(path: string): boolean {
  try {
    const type = statfsSync(path).type;
    return type === CGROUP_SUPER_MAGIC || type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Check and normalise an OCI cgroupsPath. An absolute path ("/berth/<id>") is
 * below the root of each hierarchy; a relative one ("pods/<id>",
 * config-linux.md allows it) is below the runtime's own cgroup in each
 * hierarchy, as runc's cgroupfs driver takes it: the caller resolves it with
 * ownCgroups(), and gets it back here with a leading "/". The systemd form
 * "slice:prefix:name" would need a systemd D-Bus client, so it is refused.
 */
export function normaliseCgroupsPath(cgroupsPath: string): string {
  const field = 'linux.cgroupsPath';
  if (cgroupsPath === '') throw invalid('CGROUP_PATH_INVALID', `${field}: is empty; give a path such as /berth/<id>`);
  if (/[\0\n]/.test(cgroupsPath)) throw invalid('CGROUP_PATH_INVALID', `${field}: ${JSON.stringify(cgroupsPath)} contains a NUL or newline`);
  if (!cgroupsPath.startsWith('/') && /^[^/]*:[^/]*:[^/]*$/.test(cgroupsPath)) {
    throw invalid(
      'CGROUP_PATH_INVALID',
      `${field}: ${JSON.stringify(cgroupsPath)}: this looks like the systemd form "slice:prefix:name", which needs the systemd cgroup driver berth does not have; give a path such as /berth/<id>`,
    );
  }
  const parts = cgroupsPath.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) {
    throw invalid('CGROUP_PATH_INVALID', `${field}: ${JSON.stringify(cgroupsPath)} may not contain "." or ".." components`);
  }
  if (parts.length === 0) throw invalid('CGROUP_PATH_INVALID', `${field}: "/" is the host's root cgroup, not a container's`);
  return '/' + parts.join('/');
}

/** Whether a cgroupsPath is relative to the runtime's own cgroup (see normaliseCgroupsPath). */
export function isRelativeCgroupsPath(cgroupsPath: string): boolean {
  return !cgroupsPath.startsWith('/');
}

/**
 * The cgroup a process is in, per hierarchy, from /proc/<pid>/cgroup: each v1
 * controller (and "name=systemd") to its path, and "" to the v2 path.
 */
export function ownCgroups(text = readFileSync('/proc/self/cgroup', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') out.set('', m[2]!);
    for (const c of m[1]!.split(',').filter((x) => x !== '')) out.set(c, m[2]!);
  }
  return out;
}
