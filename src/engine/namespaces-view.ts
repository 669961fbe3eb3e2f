// Namespaces, as a person inspects them. A namespace is the kernel's
// per-process view of one kind of resource: the process IDs it can see (pid),
// its mount table (mnt), network devices and ports (net), hostname (uts), System
// V IPC objects (ipc), the root of its cgroup tree (cgroup), its user and group
// IDs (user) and its clocks (time). Each process has a link per kind in
// /proc/<pid>/ns/ that reads "net:[4026531840]": the number is the inode of
// the namespace, and two processes share a namespace exactly when their links
// read the same. `berth ns` and `inspect` show a container's links beside the
// host's, as `lsns` does for the whole host.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { NAMESPACE_PURPOSE, NS_PROC_NAME } from '../runtime/namespaces.js';

/** The kinds of namespace, in the order lsns lists a process's. pid_for_children and time_for_children are the next child's, not the process's own. */
export const NAMESPACE_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface NamespaceView {
  type: NamespaceType;
  /** The namespace's inode number: its identity ("NS" in lsns). */
  inode: number;
  /** The link that names it: /proc/<pid>/ns/<type>. */
  path: string;
  /** Whether it is the host's own namespace: then the container is not isolated in this respect. */
  shared: boolean;
  /** Processes on the host that are in this namespace. */
  processes: number;
  /** The lowest of those processes, and its command line, as lsns shows them. */
  pid: number;
  command: string;
  /** What a namespace of this kind gives a container, in words. */
  purpose: string;
}

const PURPOSE = new Map(Object.entries(NS_PROC_NAME).map(([spec, proc]) => [proc, NAMESPACE_PURPOSE[spec as keyof typeof NS_PROC_NAME]]));

/**
 * Every process's namespaces, read once for a whole command. `host` are the
 * namespaces of PID 1; where PID 1 cannot be read (some sandboxes deny it even
 * to root) those of berth itself, which runs in the host's.
 */
export interface NamespaceTable {
  host: Map<NamespaceType, number>;
  hostReference: number | 'self';
  /** "type:inode" → the pids in it, ascending. */
  members: Map<string, number[]>;
}

/** The inode a namespace link names, or undefined when the process is gone or its links cannot be read. */
export function namespaceInode(pid: number | 'self', type: NamespaceType): number | undefined {
  try {
    const m = /\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${type}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function readNamespaceTable(): NamespaceTable {
  const members = new Map<string, number[]>();
  const pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).sort((a, b) => a - b);
  for (const pid of pids) {
    for (const type of NAMESPACE_TYPES) {
      const inode = namespaceInode(pid, type);
      if (inode === undefined) continue;
      const key = `${type}:${inode}`;
      const list = members.get(key);
      if (list) list.push(pid);
      else members.set(key, [pid]);
    }
  }
  const readable = namespaceInode(1, 'mnt') !== undefined;
  const hostReference = readable ? 1 : 'self';
  const host = new Map<NamespaceType, number>();
  for (const type of NAMESPACE_TYPES) {
    const inode = namespaceInode(hostReference, type);
    if (inode !== undefined) host.set(type, inode);
  }
  return { host, hostReference, members };
}

/** A process's command line as ps prints it; a kernel thread's name in brackets. */
export function commandLine(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    if (args.length > 0) return args.join(' ');
    return `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '';
  }
}

/**
 * The namespaces of process `pid` (a container's init), each compared with
 * the host's. Empty when the process is gone.
 */
export function namespacesOf(pid: number, table: NamespaceTable = readNamespaceTable()): NamespaceView[] {
  if (!Number.isInteger(pid) || pid <= 0) return [];
  const views: NamespaceView[] = [];
  for (const type of NAMESPACE_TYPES) {
    const inode = namespaceInode(pid, type);
    if (inode === undefined) continue;
    const members = table.members.get(`${type}:${inode}`) ?? [pid];
    const lowest = members[0] ?? pid;
    views.push({
      type, inode, path: `/proc/${pid}/ns/${type}`, shared: table.host.get(type) === inode,
      processes: members.length, pid: lowest, command: commandLine(lowest), purpose: PURPOSE.get(type) ?? '',
    });
  }
  return views;
}

export interface ContainerNamespaces {
  id: string;
  name: string;
  pid: number;
  /** sharedWith: the other listed containers in the same namespace (one joined another's, as --network container:x does). */
  namespaces: (NamespaceView & { sharedWith: string[] })[];
}

/** The namespaces of several containers, read against one table of the host's processes. */
export function containerNamespaces(containers: readonly { id: string; name: string; pid: number }[]): ContainerNamespaces[] {
  const table = readNamespaceTable();
  const views = containers.map((c) => ({ c, views: namespacesOf(c.pid, table) }));
  const owners = new Map<string, string[]>();
  for (const { c, views: vs } of views) {
    for (const v of vs) if (!v.shared) owners.set(`${v.type}:${v.inode}`, [...(owners.get(`${v.type}:${v.inode}`) ?? []), c.name]);
  }
  return views.map(({ c, views: vs }) => ({
    id: c.id, name: c.name, pid: c.pid,
    namespaces: vs.map((v) => ({ ...v, sharedWith: (owners.get(`${v.type}:${v.inode}`) ?? []).filter((n) => n !== c.name) })),
  }));
}
