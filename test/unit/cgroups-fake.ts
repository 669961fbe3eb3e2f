// Fake cgroup filesystems in a temporary directory, for the unit tests. The
// kernel fills a new cgroup directory with its interface files; plain
// directories cannot, so a fake lays out, for the container's path and each
// directory above it, the files the kernel would have made, with the values a
// fresh cgroup reads (file lists taken from Linux 6.x). The drivers open files
// without O_CREAT, so a file a fake leaves out behaves as a missing kernel
// feature, as it would on a real host.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const UNLIMITED_V1 = '9223372036854771712';

/** The files of a fresh non-root cgroup v1 directory, per hierarchy. */
export const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': UNLIMITED_V1,
    'memory.soft_limit_in_bytes': UNLIMITED_V1,
    'memory.memsw.limit_in_bytes': UNLIMITED_V1,
    'memory.kmem.tcp.limit_in_bytes': UNLIMITED_V1,
    'memory.usage_in_bytes': '0',
    'memory.max_usage_in_bytes': '0',
    'memory.failcnt': '0',
    'memory.swappiness': '60',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
  },
  cpu: {
    'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_burst_us': '0',
    'cpu.rt_period_us': '1000000', 'cpu.rt_runtime_us': '0', 'cpu.idle': '0',
    'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
  },
  cpuacct: { 'cpuacct.usage': '0' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  blkio: {
    'blkio.bfq.weight': '100', 'blkio.bfq.weight_device': '', 'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '', 'blkio.throttle.read_iops_device': '', 'blkio.throttle.write_iops_device': '',
  },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
  freezer: { 'freezer.state': 'THAWED\n' },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': UNLIMITED_V1 },
  net_cls: { 'net_cls.classid': '0' },
};

export interface FakeV1 {
  root: string;
  /** The container's directory in the hierarchy mounted at `mount` ("memory", "cpu,cpuacct"). */
  dir(mount: string): string;
  read(mount: string, file: string): string;
  set(mount: string, file: string, value: string): void;
  cleanup(): void;
}

/**
 * A v1 layout: one directory per hierarchy under `root`, the container's
 * `path` made in each. `mounts` names the hierarchies ("cpu,cpuacct" co-mounts
 * two, with the cpu and cpuacct symlinks a systemd host has). `drop` removes
 * files, to play an older or differently configured kernel.
 */
export function fakeV1(path: string, opts: { mounts?: string[]; drop?: string[]; extra?: Record<string, Record<string, string>> } = {}): FakeV1 {
  const root = mkdtempSync(join(tmpdir(), 'berth-fake-v1-'));
  const mounts = opts.mounts ?? ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];
  const parts = path.split('/').filter((p) => p !== '');
  for (const mount of mounts) {
    const controllers = mount.split(',');
    const files: Record<string, string> = { 'cgroup.procs': '' };
    for (const c of controllers) Object.assign(files, V1_FILES[c] ?? {}, opts.extra?.[c] ?? {});
    for (const d of opts.drop ?? []) delete files[d];
    const top = join(root, mount);
    mkdirSync(top);
    // The hierarchy's root: cpuset starts full there, as on a real host.
    writeFileSync(join(top, 'cgroup.procs'), '1\n');
    if (controllers.includes('cpuset')) {
      writeFileSync(join(top, 'cpuset.cpus'), '0-3\n');
      writeFileSync(join(top, 'cpuset.mems'), '0\n');
    }
    let dir = top;
    for (const part of parts) {
      dir = join(dir, part);
      mkdirSync(dir);
      for (const [file, value] of Object.entries(files)) writeFileSync(join(dir, file), value);
    }
    if (controllers.length > 1) for (const c of controllers) symlinkSync(mount, join(root, c));
  }
  return {
    root,
    dir: (mount) => join(root, mount, ...parts),
    read: (mount, file) => readFileSync(join(root, mount, ...parts, file), 'utf8'),
    set: (mount, file, value) => writeFileSync(join(root, mount, ...parts, file), value),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The files a v2 cgroup has for each controller when its parent enables that controller. */
export const V2_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.max': 'max', 'memory.high': 'max', 'memory.low': '0', 'memory.swap.max': 'max', 'memory.current': '0', 'memory.peak': '0',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
  },
  cpu: { 'cpu.weight': '100', 'cpu.max': 'max 100000', 'cpu.max.burst': '0', 'cpu.idle': '0' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  io: { 'io.weight': 'default 100', 'io.max': '' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  hugetlb: { 'hugetlb.2MB.max': 'max', 'hugetlb.2MB.rsvd.max': 'max', 'hugetlb.1GB.max': 'max' },
};

export interface FakeV2 {
  root: string;
  /** Root-relative directory: "" for the root, else a path like "/berth". */
  at(rel: string): string;
  read(file: string, rel?: string): string;
  set(file: string, value: string, rel?: string): void;
  cleanup(): void;
}

/**
 * A v2 tree whose root offers `controllers`, with the container's `path` and
 * its ancestors made. Every cgroup has the core files (cgroup.freeze and
 * cgroup.kill unless dropped) and the files of every offered controller.
 */
export function fakeV2(path: string, opts: { controllers?: string[]; drop?: string[]; extra?: Record<string, string> } = {}): FakeV2 {
  const root = mkdtempSync(join(tmpdir(), 'berth-fake-v2-'));
  const controllers = opts.controllers ?? ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'];
  const core: Record<string, string> = {
    'cgroup.controllers': controllers.join(' '), 'cgroup.subtree_control': '', 'cgroup.procs': '',
    'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.freeze': '0', 'cgroup.kill': '', 'cgroup.type': 'domain',
    'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
  };
  writeFileSync(join(root, 'cgroup.controllers'), controllers.join(' '));
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
  writeFileSync(join(root, 'cgroup.procs'), '1\n');
  let dir = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    dir = join(dir, part);
    mkdirSync(dir);
    const files: Record<string, string> = { ...core };
    for (const c of controllers) Object.assign(files, V2_FILES[c] ?? {});
    Object.assign(files, opts.extra ?? {});
    for (const d of opts.drop ?? []) delete files[d];
    for (const [file, value] of Object.entries(files)) writeFileSync(join(dir, file), value);
  }
  const at = (rel: string): string => join(root, rel);
  return {
    root,
    at,
    read: (file, rel = path) => readFileSync(join(at(rel), file), 'utf8'),
    set: (file, value, rel = path) => writeFileSync(join(at(rel), file), value),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
