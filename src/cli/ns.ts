// `berth ns [CONTAINER...]`: each container's namespaces, as lsns lists them,
// with whether each is the host's own (no isolation there) or the container's.
import type { Command } from 'commander';
import { containerNamespaces, type ContainerNamespaces } from '../engine/index.js';
import type { CliContext } from './context.js';
import { containersNamed, failAsDocker } from './container/lookup.js';
import { renderTemplate, table } from './format.js';

const HEADERS = { Container: 'CONTAINER', NS: 'NS', Type: 'TYPE', NProcs: 'NPROCS', PID: 'PID', Shared: 'SHARED', Command: 'COMMAND' };
const COLUMNS = Object.keys(HEADERS) as (keyof typeof HEADERS)[];

export function namespaceRows(list: readonly ContainerNamespaces[]): Record<keyof typeof HEADERS | 'Purpose', string>[] {
  return list.flatMap((c) => c.namespaces.map((n) => ({
    Container: c.name, NS: String(n.inode), Type: n.type, NProcs: String(n.processes), PID: String(n.pid),
    // "host": not isolated in this respect; a name: joined with that container; "no": the container's own.
    Shared: n.shared ? 'host' : n.sharedWith.length > 0 ? n.sharedWith.join(',') : 'no',
    Command: n.command,
    Purpose: n.purpose,
  })));
}

export function registerNs(program: Command, ctx: CliContext): void {
  program.command('ns')
    .description("list containers' namespaces, like lsns. A namespace is the kernel's per-process view of one kind of "
      + 'resource (process IDs, mounts, network, hostname, IPC, cgroup root, users, clocks): processes in different '
      + "namespaces of a kind see different ones. SHARED says whether a namespace is the host's (no isolation there) "
      + "or the container's own")
    .argument('[containers...]', 'names or IDs (default: every running container)')
    .option('--format <format>', "'json', or a Go template over .Container .NS .Type .NProcs .PID .Shared .Command .Purpose")
    .action(async (names: string[], opts: { format?: string }) => {
      const containers = await containersNamed(ctx.engine(), names, { running: true });
      // Every running container takes part, so that a namespace one joined from another (not named) still says whose it is.
      const others = names.length > 0 ? (await containersNamed(ctx.engine(), [])).filter((o) => !containers.some((c) => c.id === o.id)) : [];
      try {
        const shown = new Set(containers.map((c) => c.id));
        const list = containerNamespaces([...containers, ...others].map((c) => ({ id: c.id, name: c.name, pid: c.state.Pid })))
          .filter((c) => shown.has(c.id));
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          return;
        }
        const rows = namespaceRows(list);
        if (opts.format !== undefined) {
          process.stdout.write(renderTemplate(opts.format, rows, HEADERS));
          return;
        }
        process.stdout.write(table(COLUMNS.map((c) => HEADERS[c]), rows.map((r) => COLUMNS.map((c) => r[c]))));
      } catch (err) {
        failAsDocker(err);
      }
    });
}
