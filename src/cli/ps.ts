import type { Command } from 'commander';
import { listContainers, type ContainerSummary } from '../engine/containers.js';
import type { CliContext } from './context.js';
import { ago, humanDuration, table, renderTemplate } from './format.js';

function statusText(c: ContainerSummary): string {
  if (c.status === 'running') return `Up ${humanDuration(Date.now() - Date.parse(c.startedAt ?? c.created))}`;
  if (c.status === 'exited') return `Exited (${c.exitCode ?? 0}) ${ago(c.finishedAt ?? c.created)}`;
  return 'Created';
}

export function registerPs(program: Command, ctx: CliContext): void {
  program.command('ps')
    .description('list containers (running ones; -a for all)')
    .option('-a, --all', 'show all containers')
    .option('-q, --quiet', 'only IDs')
    .option('--no-trunc', 'do not truncate output')
    .option('--format <template>', 'Go template')
    .action((opts: { all?: boolean; quiet?: boolean; trunc: boolean; format?: string }) => {
      const list = listContainers(ctx.engine()).filter((c) => opts.all || c.status === 'running');
      const id = (c: ContainerSummary) => (opts.trunc ? c.id.slice(0, 12) : c.id);
      if (opts.quiet) {
        process.stdout.write(list.map((c) => `${id(c)}\n`).join(''));
        return;
      }
      const rows = list.map((c) => ({
        ID: id(c), Image: c.image, Command: JSON.stringify(opts.trunc && c.command.length > 20 ? `${c.command.slice(0, 19)}…` : c.command),
        CreatedAt: c.created, RunningFor: ago(c.created), Status: statusText(c), Ports: '', Names: c.name,
      }));
      if (opts.format) {
        process.stdout.write(renderTemplate(opts.format, rows, { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES' }));
        return;
      }
      process.stdout.write(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])));
    });
}
