// Output as Docker prints it: aligned tables, `--format` Go templates (the
// common subset: {{.Field}}, {{json .}}, `table` prefix, \t), human sizes
// and "2 hours ago".
import { invalid } from '../util/errors.js';

export type Row = Record<string, string>;

/** Docker's units.HumanSizeWithPrecision(n, 3): decimal units. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(3))}${units[i]}`;
}

/** Docker's units.BytesSize(n): binary units, four significant digits ("64MiB", "1.465GiB"), as stats shows memory. */
export function bytesSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${Number(value.toPrecision(4))}${units[i]}`;
}

/** Docker's units.HumanDuration, as in "Up 2 hours" and "2 hours ago". */
export function humanDuration(ms: number): string {
  // Go's int() truncates seconds and minutes; hours are rounded.
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

/** Render rows with a header, columns separated by three spaces, as Docker's tabwriter. */
export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

/**
 * A --format template. `{{.Name}}` takes a field of the row (raw data, so
 * `{{json .}}` prints every field); `table` prints a header row made of the
 * field names in Docker's column spelling.
 */
export function renderTemplate(template: string, rows: Row[], headers: Record<string, string>, raw?: unknown[]): string {
  let body = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const isTable = /^table\s*/.test(body);
  if (isTable) body = body.replace(/^table\s*/, '');
  const render = (row: Row, i: number) => body.replace(/\{\{\s*(json\s+)?\.([A-Za-z0-9_]*)\s*\}\}/g, (whole, json: string | undefined, field: string) => {
    if (json !== undefined) return JSON.stringify(field === '' ? (raw?.[i] ?? row) : row[field]);
    if (field === '') return JSON.stringify(row);
    if (!(field in row)) throw invalid('InvalidFormat', `template: ${whole}: can't evaluate field ${field} (fields: ${Object.keys(row).join(', ')})`);
    return row[field]!;
  });
  const unknown = /\{\{(?!\s*(json\s+)?\.[A-Za-z0-9_]*\s*\}\})[^}]*\}\}/.exec(body);
  if (unknown) throw invalid('InvalidFormat', `template: unsupported action ${unknown[0]} (supported: {{.Field}}, {{json .}}, {{json .Field}}, table)`);
  const lines = rows.map(render);
  if (!isTable) return lines.map((l) => `${l}\n`).join('');
  const headerLine = body.replace(/\{\{\s*(?:json\s+)?\.([A-Za-z0-9_]*)\s*\}\}/g, (_w, field: string) => headers[field] ?? field.toUpperCase());
  const cells = [headerLine, ...lines].map((l) => l.split('\t'));
  const columns = Math.max(...cells.map((c) => c.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...cells.map((c) => (c[i] ?? '').length)));
  return cells.map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** JSON as Go's encoder writes it, whole int64s (a BigInt: nanosecond times) included. */
function goJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `\u0000bigint:${x}` : x)).replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

/** Go's fmt %v of a value, as `docker inspect -f` prints a field. */
function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => `${k}:${goValue(x)}`).join(' ')}]`;
  return String(v);
}

function lookup(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * `inspect -f` over whole objects: `{{.State.Status}}`, `{{json .Config}}`,
 * `{{index .Config.Labels "key"}}`, literal text and `\n`/`\t` around them —
 * the subset of Go templates that scripts use with inspect.
 */
export function renderObject(template: string, value: unknown): string {
  const body = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return body.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, action: string) => {
    let m = /^json\s+\.([A-Za-z0-9_.]*)$/.exec(action);
    if (m) return goJson(lookup(value, m[1]!) ?? null);
    m = /^index\s+\.([A-Za-z0-9_.]*)\s+"([^"]*)"$/.exec(action);
    if (m) return goValue(lookup(lookup(value, m[1]!), m[2]!));
    m = /^\.([A-Za-z0-9_.]*)$/.exec(action);
    if (m) return goValue(lookup(value, m[1]!));
    throw invalid('InvalidFormat', `template: unsupported action ${whole} (supported: {{.Field.Sub}}, {{json .Field}}, {{index .Field "key"}})`);
  }) + '\n';
}
