import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { listVolumes, type Volume } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { renderTemplate, table, type Row } from '../format.js';
import { relayAsDocker } from '../container/lookup.js';

const HEADERS = { Driver: 'DRIVER', Name: 'VOLUME NAME', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', CreatedAt: 'CREATED AT' };

type Listed = Volume & { users: string[] };

/** Docker's volume filters: values of one key are alternatives, except label (all must match); keys all apply. */
function filterOf(filters: string[]): (v: Listed) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (!['dangling', 'name', 'label', 'driver'].includes(key)) throw invalid('InvalidFilter', `invalid filter '${key}' (supported: dangling, name, label, driver)`);
    byKey.set(key, [...(byKey.get(key) ?? []), value]);
  }
  const tests: ((v: Listed) => boolean)[] = [];
  for (const [key, values] of byKey) {
    if (key === 'dangling') {
      const wanted = values.map((value) => {
        if (['true', '1'].includes(value)) return true;
        if (['false', '0'].includes(value)) return false;
        throw invalid('InvalidFilter', `invalid filter 'dangling=${value}': use true or false`);
      });
      tests.push((v) => wanted.includes(v.users.length === 0));
    } else if (key === 'name') {
      const patterns = values.map((value) => {
        try {
          return new RegExp(value);
        } catch {
          throw invalid('InvalidFilter', `invalid filter 'name=${value}': not a regular expression`);
        }
      });
      tests.push((v) => patterns.some((p) => p.test(v.name)));
    } else if (key === 'driver') {
      tests.push((v) => values.some((d) => v.driver.includes(d)));
    } else {
      tests.push((v) => values.every((value) => {
        const eq = value.indexOf('=');
        const k = eq < 0 ? value : value.slice(0, eq);
        return v.labels !== null && k in v.labels && (eq < 0 || v.labels[k] === value.slice(eq + 1));
      }));
    }
  }
  return (v) => tests.every((t) => t(v));
}

export function registerVolumeLs(parent: Command, ctx: CliContext): Command {
  return parent.command('ls').alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only volume names')
    .option('-f, --filter <filter>', 'dangling=true|false, name=REGEXP, label=KEY[=VALUE], driver=NAME', collect, [] as string[])
    .option('--format <template>', 'Go template (e.g. "{{.Name}}", "table {{.Name}}\\t{{.Mountpoint}}", "json")')
    .action(async (opts: { quiet?: boolean; filter: string[]; format?: string }) => {
      const keep = await relayAsDocker(() => filterOf(opts.filter));
      const volumes = listVolumes(ctx.engine()).filter(keep);
      if (opts.quiet) {
        process.stdout.write(volumes.map((v) => `${v.name}\n`).join(''));
        return;
      }
      const rows: Row[] = volumes.map((v) => ({
        Driver: v.driver, Name: v.name, Scope: 'local', Mountpoint: v.mountpoint,
        Labels: Object.entries(v.labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
        Links: String(v.users.length), Size: 'N/A', CreatedAt: v.createdAt,
      }));
      if (opts.format) {
        process.stdout.write(renderTemplate(opts.format === 'json' ? '{{json .}}' : opts.format, rows, HEADERS));
        return;
      }
      process.stdout.write(table(['DRIVER', 'VOLUME NAME'], rows.map((r) => [r.Driver!, r.Name!])));
    });
}
