// `berth top CONTAINER [ps OPTIONS]`: the container's processes as the host's
// ps shows them. As Docker's daemon does: run ps with the user's options
// (default -ef), keep the rows whose PID is in the container's cgroup, and
// print them in columns at least 20 wide.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { cgroupSummaryOf } from '../../engine/index.js';
import { invalid, systemError } from '../../util/errors.js';
import type { CliContext } from '../context.js';
import { containersNamed, failAsDocker } from './lookup.js';

const run = promisify(execFile);

export interface ProcessList {
  titles: string[];
  processes: string[][];
}

/**
 * ps output → the rows of `pids`. The last column (the command) may hold
 * spaces, so the fields beyond the titles join into it. With `m` ps prints a
 * process's threads below it with "-" as PID; they stay with their process.
 */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): ProcessList {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter((t) => t !== '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw invalid('PsNoPid', `couldn't find PID field in ps output (ps printed: ${titles.join(' ') || 'nothing'})`);
  const processes: string[][] = [];
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    const pidField = fields[pidIndex];
    if (pidField === '-') {
      if (previousKept) processes.push(row);
      continue;
    }
    const pid = Number(pidField);
    if (!Number.isInteger(pid)) throw invalid('PsBadPid', `unexpected pid '${pidField}' in ps output`);
    previousKept = pids.has(pid);
    if (previousKept) processes.push(row);
  }
  return { titles, processes };
}

/** Docker's `top` table: tabwriter with cells at least 20 wide and 3 spaces of padding; the last cell as is. */
export function formatProcessList(list: ProcessList): string {
  const rows = [list.titles, ...list.processes];
  const columns = list.titles.length;
  const widths = Array.from({ length: columns - 1 }, (_, i) => Math.max(20, ...rows.map((r) => (r[i] ?? '').length + 3)));
  return rows.map((r) => r.map((cell, i) => (i < columns - 1 ? cell.padEnd(widths[i]!) : cell)).join('')).join('\n') + '\n';
}

/** As Docker: a column renamed to PID ("-o uid=PID") would let ps rows pass as the container's processes. */
function checkPsArgs(args: string[]): void {
  for (const [, key, value] of ` ${args.join(' ')}`.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (key !== 'pid') throw invalid('PsArgs', `specifying "${key}=${value}" is not allowed`);
  }
}

async function ps(args: string[], pids: number[]): Promise<string> {
  try {
    // -q limits ps to the container's processes; some options (f) cannot go with it, so retry without.
    return (await run('ps', [...args, '-q', pids.join(',')], { maxBuffer: 64 * 2 ** 20 })).stdout;
  } catch {
    try {
      return (await run('ps', args, { maxBuffer: 64 * 2 ** 20 })).stdout;
    } catch (err) {
      const e = err as { code?: unknown; stderr?: string };
      if (e.code === 'ENOENT') throw systemError('PsMissing', 'ps is not installed on this host (Debian: apt-get install procps)');
      throw systemError('PsFailed', `ps ${args.join(' ')}: ${e.stderr?.trim() || String(err)}`);
    }
  }
}

export function registerTop(program: Command, ctx: CliContext): void {
  program.command('top')
    .description("display the running processes of a container (the host's ps, kept to the container's cgroup)")
    .argument('<container>', 'name or ID')
    .argument('[ps-options...]', 'options for ps (default: -ef)')
    .allowUnknownOption()
    .passThroughOptions()
    .helpOption('--help', 'display help for command')
    .action(async (name: string, psOptions: string[]) => {
      const [container] = await containersNamed(ctx.engine(), [name], { running: true });
      try {
        const pids = cgroupSummaryOf(container!.cgroupsPath).processes.map((p) => p.pid);
        const args = psOptions.length > 0 ? psOptions : ['-ef'];
        checkPsArgs(args);
        process.stdout.write(formatProcessList(parsePsOutput(await ps(args, pids), new Set(pids))));
      } catch (err) {
        failAsDocker(err);
      }
    });
}
