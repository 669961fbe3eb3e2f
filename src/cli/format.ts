// Output as Docker prints it: aligned tables, `--format` Go templates
// (go-template.ts), human sizes and "2 hours ago".
import { parseGoTemplate } from './go-template.js';

// Docker's "2 hours" and "2 hours ago" are the engine's too (ps's STATUS text).
export { humanDuration, ago } from '../util/duration.js';

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

/**
 * Columns as Docker's tabwriter sets them (minimum width 10, padding 3):
 * every cell but a line's last is padded.
 */
function alignColumns(lines: string[][]): string {
  const columns = Math.max(...lines.map((c) => c.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...lines.map((c) => (i < c.length - 1 ? c[i]!.length + 3 : 0)), 10));
  return lines.map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('').trimEnd()).join('\n') + '\n';
}

/** Render rows with a header, as Docker's default table output. */
export function table(headers: string[], rows: string[][]): string {
  return alignColumns([headers, ...rows]);
}

/** Docker's --format text: `\t` and `\n` typed as two characters mean tab and newline; a leading `table` asks for a header. */
function preFormat(template: string): { body: string; isTable: boolean } {
  const isTable = template.startsWith('table');
  const body = (isTable ? template.slice('table'.length) : template).trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { body, isTable };
}

/** Labels the way Docker's list rows offer them: `{{.Labels}}` as k=v,… and `{{.Label "k"}}`. */
function withLabelMethod(row: Row): Row & { Label: (name: unknown) => string } {
  const labels = new Map((row.Labels ?? '').split(',').filter(Boolean).map((kv) => {
    const eq = kv.indexOf('=');
    return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
  return Object.defineProperty({ ...row }, 'Label', { value: (name: unknown) => labels.get(String(name)) ?? '', enumerable: false }) as Row & { Label: (name: unknown) => string };
}

/**
 * A --format template over list rows (Go's text/template with Docker's
 * functions). Rows are Docker's structs: a field they lack is an error.
 * `table` prints a header row made of the fields' column names.
 */
export function renderTemplate(template: string, rows: Row[], headers: Record<string, string>): string {
  const { body, isTable } = preFormat(template);
  const compiled = parseGoTemplate(body, { missingField: 'error' });
  const lines = rows.map((row) => compiled.execute(withLabelMethod(row)));
  if (!isTable) return lines.map((l) => `${l}\n`).join('');
  const fields = new Set([...Object.keys(headers), ...rows.flatMap((r) => Object.keys(r))]);
  const headerRow = Object.fromEntries([...fields].map((f) => [f, headers[f] ?? f.toUpperCase()]));
  const header = parseGoTemplate(body, { missingField: 'error' }).execute(Object.defineProperty(headerRow, 'Label', { value: () => 'LABEL', enumerable: false }));
  return alignColumns([header, ...lines].join('\n').split('\n').map((l) => l.split('\t')));
}

/**
 * `inspect -f` over whole documents: Go's templates over Docker's JSON,
 * where a missing key prints `<no value>` as Docker's map fallback does.
 */
export function renderObject(template: string, value: unknown): string {
  const body = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return `${parseGoTemplate(body, { missingField: 'zero' }).execute(value)}\n`;
}
