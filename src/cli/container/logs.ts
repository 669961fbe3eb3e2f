import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { containerLogs, formatTimestamp } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { asDaemon } from './each.js';

/** Docker's --since/--until: RFC 3339 times, Unix timestamps, or durations back from now ("10m", "1h30m"). */
export function parseTime(text: string, flag: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000);
  const duration = /^((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (duration) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    let ms = 0;
    for (const [, n, u] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * unit[u!]!;
    return new Date(now - ms);
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw invalid('InvalidFlag', `invalid value for "${flag}": failed to parse value as time or duration: "${text}"`);
  return new Date(t);
}

export function registerLogs(parent: Command, ctx: CliContext): Command {
  return parent.command('logs')
    .description('show a container\'s output (kept by its monitor in Docker\'s json-file format)')
    .argument('<container>', 'name or ID')
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('-n, --tail <n>', 'only the last n lines ("all" for every line)', 'all')
    .option('--since <time>', 'only output since this time (RFC 3339, Unix time, or a duration such as 10m)')
    .option('--until <time>', 'only output before this time')
    .option('-t, --timestamps', 'prefix each line with its time')
    .option('--details', 'show extra details (none are kept)')
    .action(async (name: string, opts: { follow?: boolean; tail: string; since?: string; until?: string; timestamps?: boolean }) => {
      const engine = ctx.engine();
      const info = await asDaemon(() => engine.container(name));
      if (opts.tail !== 'all' && !/^-?\d+$/.test(opts.tail)) throw invalid('InvalidFlag', `invalid value for "tail": strconv.Atoi: parsing "${opts.tail}": invalid syntax`);
      const tail = opts.tail === 'all' || Number(opts.tail) < 0 ? undefined : Number(opts.tail);
      for await (const entry of containerLogs(engine, info, {
        ...(tail !== undefined ? { tail } : {}),
        ...(opts.since ? { since: parseTime(opts.since, '--since') } : {}),
        ...(opts.until ? { until: parseTime(opts.until, '--until') } : {}),
        follow: opts.follow ?? false,
      })) {
        const out = entry.stream === 'stderr' ? process.stderr : process.stdout;
        out.write(opts.timestamps ? `${formatTimestamp(entry.time)} ${entry.log}` : entry.log);
      }
    });
}
