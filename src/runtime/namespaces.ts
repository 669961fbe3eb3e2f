// Namespaces decide what a process sees: its own pids, mounts, network,
// hostname, IPC objects, user ids, cgroup root and clocks. A container either
// gets a new one of each kind or joins an existing one through its
// /proc/<pid>/ns/<type> file. The order matters to the kernel, so it is data.
import type { NamespaceType } from './spec.js';

export const CLONE_FLAGS: Record<NamespaceType, number> = {
  mount: 0x00020000,   // CLONE_NEWNS
  cgroup: 0x02000000,  // CLONE_NEWCGROUP
  uts: 0x04000000,     // CLONE_NEWUTS
  ipc: 0x08000000,     // CLONE_NEWIPC
  user: 0x10000000,    // CLONE_NEWUSER
  pid: 0x20000000,     // CLONE_NEWPID
  network: 0x40000000, // CLONE_NEWNET
  time: 0x00000080,    // CLONE_NEWTIME
};

/** The /proc/<pid>/ns/ file name of each type. */
export const NS_PROC_NAME: Record<NamespaceType, string> = {
  mount: 'mnt', cgroup: 'cgroup', uts: 'uts', ipc: 'ipc', user: 'user', pid: 'pid', network: 'net', time: 'time',
};

/**
 * The order in which namespaces are joined. The user namespace comes first:
 * joining it grants the capabilities needed to join the others it owns. The
 * mount namespace comes last among the joined ones so that the /proc paths of
 * the others still resolve on the host. cgroup is unshared after the process
 * sits in its cgroup, so that the namespace's root is the container's cgroup.
 */
export const NAMESPACE_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'time', 'cgroup', 'mount'] as const satisfies readonly NamespaceType[];

export const NAMESPACE_PURPOSE: Record<NamespaceType, string> = {
  pid: 'own process ids: the container process is PID 1 and sees no host process',
  mount: 'own mount table: the root filesystem and its mounts are invisible to the host',
  network: 'own network stack: interfaces, routes, ports (only lo until one is added)',
  uts: 'own hostname and domain name',
  ipc: 'own System V IPC objects and POSIX message queues',
  user: 'own user and group ids, mapped onto host ids',
  cgroup: 'own view of the cgroup tree: its cgroup appears as the root',
  time: 'own monotonic and boot-time clock offsets',
};
