// `berth cgroups [CONTAINER...]`: the cgroup tree of berth's containers, like
// systemd-cgls, with each container's limits in force, its usage and its
// processes.
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { type ContainerInfo, cgroupLocation, cgroupSummaryOf, cpusOf, type CgroupSummary } from '../engine/index.js';
import { invalid } from '../util/errors.js';
import type { CliContext } from './context.js';
import { containersNamed, failAsDocker } from './container/lookup.js';
import { bytesSize, humanSize } from './format.js';

const DEFAULT_PARENT = '/berth';

export interface ContainerCgroup {
  id: string;
  name: string;
  status: string;
  cgroup: CgroupSummary;
}

/** Where a cgroup is, in one phrase: "/sys/fs/cgroup/{cpu,memory}/berth" for v1's hierarchies, the directory on v2. */
export function whereIs(path: string, directories: readonly string[]): string {
  const mounts = directories.map((d) => d.slice(0, d.length - path.length));
  const parents = new Set(mounts.map((m) => dirname(m)));
  if (mounts.length > 1 && parents.size === 1) return `${[...parents][0]}/{${mounts.map((m) => basename(m)).join(',')}}${path}`;
  return directories.join(', ');
}

/** CPU time as a person reads it: 4.49ms, 1.21s, 3m2s. */
export function cpuTime(ns: number): string {
  if (ns < 1e6) return `${Number((ns / 1e3).toPrecision(3))}µs`;
  if (ns < 1e9) return `${Number((ns / 1e6).toPrecision(3))}ms`;
  if (ns < 60e9) return `${Number((ns / 1e9).toPrecision(3))}s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)}m${s % 60}s`;
}

export function limitsText(c: CgroupSummary): string {
  const l = c.limits;
  const cpus = cpusOf(l);
  const parts = [`memory=${l.memory !== undefined ? bytesSize(l.memory) : 'unlimited'}`];
  if (l.memorySwap !== undefined) parts.push(`memory+swap=${bytesSize(l.memorySwap)}`);
  if (l.memoryReservation !== undefined) parts.push(`memory-reservation=${bytesSize(l.memoryReservation)}`);
  parts.push(`cpus=${cpus !== undefined ? Number(cpus.toFixed(3)) : 'unlimited'}`);
  // The defaults (1024 shares, weight 100) mean "an equal share", no limit worth a word.
  if (l.cpuShares !== undefined && l.cpuShares !== 1024) parts.push(`cpu-shares=${l.cpuShares}`);
  if (l.cpuWeight !== undefined && l.cpuWeight !== 100) parts.push(`cpu-weight=${l.cpuWeight}`);
  if (l.cpusetCpus !== undefined) parts.push(`cpuset-cpus=${l.cpusetCpus}`);
  if (l.cpusetMems !== undefined) parts.push(`cpuset-mems=${l.cpusetMems}`);
  parts.push(`pids=${l.pids ?? 'unlimited'}`);
  return parts.join(' ');
}

export function usageText(c: CgroupSummary): string {
  const u = c.usage;
  const peak = u.memoryMaxBytes !== undefined ? ` (peak ${bytesSize(u.memoryMaxBytes)})` : '';
  const oom = u.oomKills > 0 ? ` oom-kills=${u.oomKills}` : '';
  return `memory=${bytesSize(u.memoryBytes)}${peak} cpu=${cpuTime(u.cpuNs)} pids=${u.pids} io-read=${humanSize(u.blockReadBytes)} io-write=${humanSize(u.blockWriteBytes)}${oom}`;
}

/** The tree, systemd-cgls style: each parent cgroup, its containers, their limits, usage and processes. */
export function renderCgroupTree(entries: readonly ContainerCgroup[], parents: readonly { path: string; directories: string[]; version: number }[]): string {
  const out: string[] = [];
  for (const parent of parents) {
    out.push(`${parent.path}  (cgroup v${parent.version}: ${whereIs(parent.path, parent.directories)})`);
    const children = entries.filter((e) => dirname(e.cgroup.path) === parent.path);
    children.forEach((e, i) => {
      const last = i === children.length - 1;
      const [branch, indent] = last ? ['└─', '  '] : ['├─', '│ '];
      if (!e.cgroup.exists) {
        out.push(`${branch}${basename(e.cgroup.path).slice(0, 12)} ${e.name}  (${e.status}: no cgroup)`);
        return;
      }
      out.push(`${branch}${basename(e.cgroup.path).slice(0, 12)} ${e.name}  (${e.status})`);
      const procs = e.cgroup.processes;
      const detail = procs.length > 0 ? '│ ' : '  ';
      out.push(`${indent}${detail}limits: ${limitsText(e.cgroup)}`);
      out.push(`${indent}${detail}usage:  ${usageText(e.cgroup)}`);
      procs.forEach((p, j) => out.push(`${indent}${j === procs.length - 1 ? '└─' : '├─'}${p.pid} ${p.command}`));
    });
  }
  return out.map((l) => `${l}\n`).join('');
}

export function containerCgroups(containers: readonly ContainerInfo[]): ContainerCgroup[] {
  return containers.map((c) => ({ id: c.id, name: c.name, status: c.state.Status, cgroup: cgroupSummaryOf(c.cgroupsPath) }));
}

export function registerCgroups(program: Command, ctx: CliContext): void {
  program.command('cgroups')
    .description("draw the cgroup tree of berth's containers with their limits, usage and processes, like systemd-cgls. "
      + 'A cgroup is a group of processes the kernel accounts for and limits together: memory, CPU time, number of '
      + 'processes, block I/O')
    .argument('[containers...]', 'names or IDs (default: every running container)')
    .option('-a, --all', 'also containers that are not running')
    .option('--format <format>', "'json' for scripts")
    .action(async (names: string[], opts: { all?: boolean; format?: string }) => {
      const containers = await containersNamed(ctx.engine(), names, { all: opts.all });
      try {
        const entries = containerCgroups(containers);
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
          return;
        }
        if (opts.format !== undefined) throw invalid('InvalidFormat', `--format ${opts.format}: berth cgroups prints a tree or 'json'`);
        // berth's own parent always, so that an empty tree still says where containers' cgroups go.
        const parents = [...new Set([DEFAULT_PARENT, ...entries.map((e) => dirname(e.cgroup.path))])].map((path) => cgroupLocation(path));
        process.stdout.write(renderCgroupTree(entries, parents));
      } catch (err) {
        failAsDocker(err);
      }
    });
}
