// cgroups for the OCI runtime: given a container's cgroupsPath and its
// linux.resources, make its cgroup, apply the limits, and later report usage,
// freeze, signal and remove it. Two drivers behind one interface (types.ts):
// v1.ts for hosts whose controllers are cgroup v1 hierarchies (legacy and
// hybrid), v2.ts for the unified hierarchy; cgroupManager() picks one, once.
// The driver only prepares and inspects cgroups; the native helper moves the
// container's process in by writing its pid to each of procsFiles().
//
// May import: src/util only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../../util/errors.js';
import {
  detectCgroupVersion, isRelativeCgroupsPath, normaliseCgroupsPath, onCgroupFs, ownCgroups, readMountinfo, v1MountsFromMountinfo,
  v1MountsUnder, v2MountFromMountinfo, versionOfRoot,
} from './mounts.js';
import type { CgroupVersion } from './types.js';
import { CgroupV1 } from './v1.js';
import { CgroupV2 } from './v2.js';

export type {
  CgroupLimits, CgroupManager, CgroupStats, CgroupVersion, LinuxBlockIO, LinuxCpu, LinuxDeviceCgroup, LinuxHugepageLimit, LinuxMemory,
  LinuxNetwork, LinuxPids, LinuxResources, LinuxThrottleDevice, LinuxWeightDevice,
} from './types.js';
export { detectCgroupVersion, isRelativeCgroupsPath, normaliseCgroupsPath, ownCgroups } from './mounts.js';
export { cgroupWriteChannel, type CgroupWriteEvent } from './cgroupfs.js';
export { CgroupV1, planV1 } from './v1.js';
export { CgroupV2, planV2 } from './v2.js';

/** The closed set of drivers; narrow on `version`. */
export type AnyCgroupManager = CgroupV1 | CgroupV2;

export interface CgroupManagerOptions {
  /** Force a driver; by default the host's (see detectCgroupVersion). On hybrid hosts 2 means /sys/fs/cgroup/unified. */
  version?: CgroupVersion;
  /**
   * A directory standing in for /sys/fs/cgroup: a cgroup2 tree for v2, or
   * one directory per v1 hierarchy ("memory", "cpu,cpuacct"…) for v1. Tests
   * point this at plain directories; mountinfo is not read then.
   */
  root?: string;
  /**
   * For a relative cgroupsPath: the cgroup it is relative to in each
   * hierarchy (v1 controller, or "" for v2, to its path), as ownCgroups()
   * reads them. The runtime reads them once, at create, and keeps them, so
   * that later verbs find the same cgroup whoever runs them. Default: this
   * process's own.
   */
  parents?: ReadonlyMap<string, string>;
}

export function cgroupManager(cgroupsPath: string, opts: CgroupManagerOptions = {}): AnyCgroupManager {
  const path = normaliseCgroupsPath(cgroupsPath);
  if (opts.root !== undefined && !existsSync(opts.root)) {
    throw invalid('CGROUP_ROOT_MISSING', `cgroup root ${opts.root} does not exist`);
  }
  const version = opts.version ?? (opts.root !== undefined ? versionOfRoot(opts.root) : detectCgroupVersion());
  // A relative path is an absolute one in a hierarchy that starts at the parent.
  const parents = isRelativeCgroupsPath(cgroupsPath) ? (opts.parents ?? ownCgroups()) : undefined;
  const below = (mount: string, key: string) => (parents ? join(mount, parents.get(key) ?? '/') : mount);
  if (version === 1) {
    const mounts = opts.root !== undefined ? v1MountsUnder(opts.root) : v1MountsFromMountinfo(readMountinfo());
    const first = [...mounts.values()][0];
    const bases = new Map([...mounts].map(([c, mount]) => [c, below(mount, c)]));
    return new CgroupV1(path, bases, opts.root !== undefined && first !== undefined && !onCgroupFs(first));
  }
  const mount = opts.root ?? v2MountFromMountinfo(readMountinfo());
  return new CgroupV2(path, below(mount, ''), opts.root !== undefined && !onCgroupFs(mount));
}

/** The mount points of this host's cgroup v1 hierarchies. */
export function cgroupV1Mounts(): string[] {
  return [...new Set(v1MountsFromMountinfo(readMountinfo()).values())];
}
