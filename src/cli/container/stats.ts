// `berth stats [CONTAINER...]`: Docker's live table of resource usage, redrawn
// every second until Ctrl-C, or one table with --no-stream. CPU % needs two
// readings, so the first table comes a second after the start, as Docker's.
import type { Command } from 'commander';
import { type ContainerInfo, cpuPercent, memoryPercent, sampleStats, type StatsSample } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { bytesSize, humanSize, renderTemplate } from '../format.js';
import { containersNamed, failAsDocker, isRunning } from './lookup.js';

const INTERVAL_MS = 1000;
const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
export type StatsRow = Record<keyof typeof HEADERS, string>;

/** Docker's row: binary units for memory, decimal for network and block I/O; a stopped container reads all zeros. */
export function statsRow(c: { id: string; name: string; asNamed?: string }, previous: StatsSample | undefined, current: StatsSample | undefined, trunc: boolean): StatsRow {
  const id = trunc ? c.id.slice(0, 12) : c.id;
  const s = current;
  return {
    // As Docker: what the user named, else the full ID (truncation is for ID alone).
    Container: c.asNamed ?? c.id,
    ID: id,
    Name: c.name,
    CPUPerc: `${(previous && s ? cpuPercent(previous, s) : 0).toFixed(2)}%`,
    MemUsage: s ? `${bytesSize(s.memoryBytes)} / ${bytesSize(s.memoryLimitBytes)}` : '0B / 0B',
    MemPerc: `${(s ? memoryPercent(s) : 0).toFixed(2)}%`,
    NetIO: s ? `${humanSize(s.netRxBytes)} / ${humanSize(s.netTxBytes)}` : '0B / 0B',
    BlockIO: s ? `${humanSize(s.blockReadBytes)} / ${humanSize(s.blockWriteBytes)}` : '0B / 0B',
    PIDs: String(s?.pids ?? 0),
  };
}

function sample(c: ContainerInfo): StatsSample | undefined {
  return isRunning(c) ? sampleStats(c.state.Pid, c.cgroupsPath) : undefined;
}

/** A named container removed while the table runs: it stays, with nothing to read. */
const gone = (c: ContainerInfo): ContainerInfo => ({ ...c, state: { ...c.state, Running: false, Pid: 0 } });

interface StatsOptions { all?: boolean; stream: boolean; trunc: boolean; format?: string }

export function registerStats(program: Command, ctx: CliContext): void {
  program.command('stats')
    .description("display a live stream of containers' resource usage (read from each container's cgroup)")
    .argument('[containers...]', 'names or IDs (default: every running container)')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', 'do not truncate output')
    .option('--format <format>', "'table', 'json', 'table TEMPLATE' or a Go template")
    .action(async (names: string[], opts: StatsOptions) => {
      const engine = ctx.engine();
      const format = opts.format === undefined || opts.format === 'table' ? DEFAULT_FORMAT : opts.format === 'json' ? '{{json .}}' : opts.format;
      // Named containers stay in the table whatever happens to them; otherwise the table follows what runs now.
      const list = async (): Promise<ContainerInfo[]> => containersNamed(engine, names, { all: opts.all });
      let containers = await list();
      const asNamed = new Map(containers.map((c, i) => [c.id, names[i]]));
      try {
        let previous = new Map(containers.map((c) => [c.id, sample(c)]));
        let frame = 0;
        for (;;) {
          await new Promise((r) => setTimeout(r, INTERVAL_MS));
          if (frame > 0 && names.length === 0) containers = await list();
          else if (frame > 0) containers = await Promise.all(containers.map((c) => engine.container(c.id).catch(() => gone(c))));
          const current = new Map(containers.map((c) => [c.id, sample(c)]));
          const rows = containers.map((c) => statsRow({ id: c.id, name: c.name, asNamed: asNamed.get(c.id) }, previous.get(c.id), current.get(c.id), opts.trunc));
          const text = renderTemplate(format, rows, HEADERS);
          if (!opts.stream) {
            process.stdout.write(text);
            return;
          }
          // Home, each line cleared to its end, then the rest of the screen: a redraw without flicker.
          process.stdout.write(`${frame === 0 ? '\x1b[2J' : ''}\x1b[H${text.split('\n').join('\x1b[K\n')}\x1b[J`);
          previous = current;
          frame++;
        }
      } catch (err) {
        failAsDocker(err);
      }
    });
}
