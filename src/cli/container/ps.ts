import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { invalid } from '../../util/errors.js';
import type { ContainerInfo } from '../../engine/container-info.js';
import { networkNameOf, portsText, publishedPorts } from '../../engine/network.js';
import { containerPaths } from '../../engine/container-info.js';
import { imageSize } from '../../engine/images.js';
import type { Engine } from '../../engine/engine.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { ago, humanDuration, humanSize, table, renderTemplate } from '../format.js';

/** Docker's STATUS column: "Up 3 minutes (healthy)", "Exited (0) 2 seconds ago", "Created"… */
export function statusText(c: ContainerInfo, now = Date.now()): string {
  const s = c.state;
  switch (s.Status) {
    case 'running':
    case 'paused': {
      const health = s.Health ? (s.Health.Status === 'starting' ? ' (health: starting)' : ` (${s.Health.Status})`) : '';
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${s.Paused ? ' (Paused)' : health}`;
    }
    case 'restarting': return `Restarting (${s.ExitCode}) ${ago(s.FinishedAt, now)}`;
    case 'removing': return 'Removal In Progress';
    case 'exited':
      return s.FinishedAt.startsWith('0001') ? 'Created' : `Exited (${s.ExitCode}) ${ago(s.FinishedAt, now)}`;
    default: return 'Created';
  }
}

/** Bytes in a directory tree (du's apparent sizes), 0 if it is gone. */
function treeSize(path: string): number {
  try {
    return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\t')[0]);
  } catch {
    return 0;
  }
}

export function containerSizes(engine: Engine, c: ContainerInfo): { rw: number; rootFs: number } {
  const rw = treeSize(containerPaths(c.dir, c.id).upper);
  let image = 0;
  try {
    image = imageSize(engine, engine.image(c.imageId));
  } catch { /* image gone */ }
  return { rw, rootFs: rw + image };
}

/** A name filter is a regular expression, as in Docker; a bad one is the user's error. */
function namePattern(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (err) {
    throw invalid('InvalidFilter', `invalid filter 'name=${text}': ${(err as Error).message}`);
  }
}

/** `ps --filter`: Docker's keys; several values of one key match any, different keys all. */
function matcher(filters: string[], all: ContainerInfo[]): (c: ContainerInfo) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    if (i < 1) throw invalid('InvalidFilter', `bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, i);
    if (!['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'health', 'is-task', 'volume', 'network'].includes(key)) {
      throw invalid('InvalidFilter', `invalid filter '${key}'`);
    }
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(i + 1)]);
  }
  const created = (ref: string) => {
    const c = all.find((x) => x.id === ref || x.name === ref || x.id.startsWith(ref));
    if (!c) throw invalid('InvalidFilter', `No such container: ${ref}`);
    return c.created;
  };
  const statuses = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
  for (const s of byKey.get('status') ?? []) {
    if (!statuses.includes(s)) throw invalid('InvalidFilter', `invalid filter 'status=${s}'`);
  }
  const tests: Record<string, (c: ContainerInfo, v: string) => boolean> = {
    id: (c, v) => c.id.startsWith(v),
    name: (c, v) => namePattern(v).test(c.name),
    label: (c, v) => {
      const labels = c.body.Labels ?? {};
      const [k, val] = v.split('=', 2) as [string, string | undefined];
      return k in labels && (val === undefined || labels[k] === val);
    },
    status: (c, v) => c.state.Status === v,
    exited: (c, v) => c.state.Status === 'exited' && String(c.state.ExitCode) === v,
    ancestor: (c, v) => c.image === v || c.image.split(':')[0] === v || c.imageId === v || c.imageId.slice(7).startsWith(v.replace(/^sha256:/, '')),
    before: (c, v) => c.created < created(v),
    since: (c, v) => c.created > created(v),
    health: (c, v) => (c.state.Health?.Status ?? 'none') === v,
    'is-task': (_c, v) => v === 'false',
    volume: (c, v) => (c.body.HostConfig?.Binds ?? []).some((b) => b.split(':')[0] === v) || (c.body.HostConfig?.Mounts ?? []).some((m) => m.Source === v),
    network: (c, v) => networkNameOf(c.body) === v,
  };
  return (c) => [...byKey].every(([k, vs]) => vs.some((v) => tests[k]!(c, v)));
}

const HEADERS = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', CreatedAt: 'CREATED AT', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES', Size: 'SIZE', Labels: 'LABELS', State: 'STATE', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES' };

interface PsFlags { all?: boolean; quiet?: boolean; trunc: boolean; format?: string; latest?: boolean; last?: string; size?: boolean; filter: string[] }

export function registerPs(parent: Command, ctx: CliContext, name = 'ps'): Command {
  return parent.command(name)
    .description('list containers (running ones; -a for all)')
    .option('-a, --all', 'show all containers')
    .option('-q, --quiet', 'only IDs')
    .option('-l, --latest', 'only the latest created container (of any state)')
    .option('-n, --last <n>', 'only the n last created containers (of any state)')
    .option('-s, --size', 'show each container\'s size: its writable layer (and the whole, virtual)')
    .option('-f, --filter <key=value>', 'id, name, label, status, exited, ancestor, before, since, health', collect, [] as string[])
    .option('--no-trunc', 'do not truncate output')
    .option('--format <template>', 'table, json, or a Go template ({{.ID}} {{.Names}} {{.Status}} …)')
    .action(async (opts: PsFlags) => {
      const engine = ctx.engine();
      const all = await engine.listContainers();
      const match = matcher(opts.filter, all);
      let last = opts.latest ? 1 : undefined;
      if (opts.last !== undefined) {
        if (!/^-?\d+$/.test(opts.last)) throw invalid('InvalidFlag', `invalid argument "${opts.last}" for "-n, --last" flag`);
        if (Number(opts.last) >= 0) last = Number(opts.last);
      }
      const showAll = opts.all || last !== undefined || opts.filter.some((f) => /^(status|exited)=/.test(f));
      let list = all.filter((c) => (showAll || c.state.Running || c.state.Restarting) && match(c));
      if (last !== undefined) list = list.slice(0, last);
      const id = (c: ContainerInfo) => (opts.trunc ? c.id.slice(0, 12) : c.id);
      if (opts.quiet) {
        process.stdout.write(list.map((c) => `${id(c)}\n`).join(''));
        return;
      }
      const rows = list.map((c): Record<keyof typeof HEADERS, string> => {
        const command = c.command.join(' ');
        const size = opts.size ? containerSizes(engine, c) : undefined;
        return {
          ID: id(c), Image: c.image, Command: opts.trunc ? JSON.stringify(command.length > 20 ? `${command.slice(0, 19)}…` : command) : JSON.stringify(command),
          CreatedAt: new Date(c.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'), RunningFor: ago(c.created), Status: statusText(c), Ports: c.state.Running ? portsText(publishedPorts(engine, c.id)) : '', Names: c.name,
          State: c.state.Status, Labels: Object.entries(c.body.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
          Size: size ? `${humanSize(size.rw)} (virtual ${humanSize(size.rootFs)})` : '', Mounts: '', Networks: networkNameOf(c.body), LocalVolumes: '0',
        };
      });
      const format = opts.format === 'json' ? '{{json .}}' : opts.format === 'table' ? undefined : opts.format;
      if (format) {
        process.stdout.write(renderTemplate(format, rows, HEADERS));
        return;
      }
      const columns: (keyof typeof HEADERS)[] = ['ID', 'Image', 'Command', 'RunningFor', 'Status', 'Ports', 'Names', ...(opts.size ? ['Size' as const] : [])];
      process.stdout.write(table(columns.map((k) => HEADERS[k]), rows.map((r) => columns.map((k) => r[k]))));
    });
}
