// Docker's defaults, as data, in one place: what a container gets when nobody
// asks for anything else. `berth runtime spec` writes them into a config.json,
// and the engine starts from them for `berth run`.
import type { Spec } from './spec.js';
import type { CapabilityName } from './capabilities.js';

/** moby's oci/caps/defaults.go: the 14 capabilities a Docker container keeps. */
export const DOCKER_DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Kernel interfaces that leak host information or allow host changes: hidden. */
export const DOCKER_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Kernel interfaces a container may read but not write. */
export const DOCKER_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default mounts (moby oci/defaults.go). */
export const DOCKER_DEFAULT_MOUNTS: NonNullable<Spec['mounts']> = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
];

/** Device nodes every container gets (runtime-spec "Default Devices"). */
export const DEFAULT_DEVICES = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666 },
] as const;

/** Links every container's /dev has (runtime-spec "Default Devices"). */
export const DEFAULT_DEV_SYMLINKS: readonly [link: string, target: string][] = [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
  ['/dev/ptmx', 'pts/ptmx'],
];

type DeviceRule = NonNullable<NonNullable<NonNullable<Spec['linux']>['resources']>['devices']>[number];

/**
 * The device cgroup allows what every container's /dev holds, whatever its
 * rules deny (runtime-spec "Default Devices"; runc and youki append the same
 * after the config's rules): the default nodes, /dev/ptmx and the ptys of
 * /dev/pts. Without them a deny-all rule (podman's) would also deny the
 * runtime's own mknod of /dev/null.
 */
export const DEFAULT_DEVICE_CGROUP_RULES: readonly DeviceRule[] = [
  ...DEFAULT_DEVICES.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: 'rwm' }) as const),
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
];

/**
 * A config's resources as the container's cgroup gets them: where the config
 * has device rules, the default devices' rules come after them.
 */
export function withDefaultDeviceRules<R extends { devices?: readonly DeviceRule[] }>(resources: R | undefined): R | undefined {
  if (!resources?.devices?.length) return resources;
  return { ...resources, devices: [...resources.devices, ...DEFAULT_DEVICE_CGROUP_RULES] };
}

/** The device cgroup rules Docker applies: deny all, then allow the defaults. */
export const DOCKER_DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: 'rwm' },
  // mknod of any node is allowed; using it is not, unless listed below.
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  ...DEFAULT_DEVICE_CGROUP_RULES,
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

export interface DefaultSpecOptions {
  args?: string[];
  terminal?: boolean;
  rootfs?: string;
  hostname?: string;
  /** Docker's seccomp profile for these capabilities; left out when undefined. */
  seccomp?: NonNullable<Spec['linux']>['seccomp'];
}

/** A config.json with Docker's defaults, as `berth runtime spec` writes it. */
export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const caps = [...DOCKER_DEFAULT_CAPABILITIES];
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: opts.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args: opts.args ?? ['sh'],
      env: [DEFAULT_PATH_ENV, 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
      noNewPrivileges: false,
    },
    root: { path: opts.rootfs ?? 'rootfs', readonly: false },
    hostname: opts.hostname ?? 'berth',
    mounts: structuredClone([...DOCKER_DEFAULT_MOUNTS]),
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      resources: { devices: structuredClone([...DOCKER_DEFAULT_DEVICE_RULES]) },
      maskedPaths: [...DOCKER_MASKED_PATHS],
      readonlyPaths: [...DOCKER_READONLY_PATHS],
      ...(opts.seccomp ? { seccomp: opts.seccomp } : {}),
    },
  };
}
