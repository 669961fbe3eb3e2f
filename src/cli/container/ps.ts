import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { containerList, type ContainerSummary } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { ago, humanSize, table, renderTemplate } from '../format.js';
import { relayAsDocker } from './lookup.js';

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
      let last = opts.latest ? 1 : undefined;
      if (opts.last !== undefined) {
        if (!/^-?\d+$/.test(opts.last)) throw invalid('InvalidFlag', `invalid argument "${opts.last}" for "-n, --last" flag`);
        if (Number(opts.last) >= 0) last = Number(opts.last);
      }
      const list = await relayAsDocker(() => containerList(ctx.engine(), {
        all: opts.all ?? false, filters: opts.filter, ...(last !== undefined ? { last } : {}), size: (opts.size ?? false) && !opts.quiet,
      }));
      const id = (c: ContainerSummary) => (opts.trunc ? c.id.slice(0, 12) : c.id);
      if (opts.quiet) {
        process.stdout.write(list.map((c) => `${id(c)}\n`).join(''));
        return;
      }
      const rows = list.map((c): Record<keyof typeof HEADERS, string> => {
        const command = c.command.join(' ');
        const size = c.sizes;
        return {
          ID: id(c), Image: c.image, Command: opts.trunc ? JSON.stringify(command.length > 20 ? `${command.slice(0, 19)}…` : command) : JSON.stringify(command),
          CreatedAt: new Date(c.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'), RunningFor: ago(c.created), Status: c.statusText, Ports: c.portsText, Names: c.name,
          State: c.state.Status, Labels: Object.entries(c.body.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
          Size: size ? `${humanSize(size.rw)} (virtual ${humanSize(size.rootFs)})` : '', Mounts: '', Networks: c.networkName, LocalVolumes: '0',
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
