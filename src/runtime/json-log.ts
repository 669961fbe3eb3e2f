// Reading a container's log, which its monitor writes in Docker's json-file
// format (docs/plan-format.md, MONITOR_LOG_FILE): one JSON object per line,
// {"log":"…","stream":"stdout"|"stderr","time":"<RFC 3339, nanoseconds>"}.
// A reader may meet the writer mid-line: a last line without its "\n" is
// waited for, never parsed half; a line that is not such an object is skipped.
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { errnoCode } from '../util/errors.js';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** As written: RFC 3339 in UTC with nanoseconds. */
  time: string;
  /** The bytes of the line (with its "\n"), or a 16 KiB piece of a longer one (without). */
  log: string;
}

export interface ReadLogOptions {
  /** Only entries at or after this time. */
  since?: Date;
  /** Only entries at or before this time (reading stops at the first later one). */
  until?: Date;
  /** Only the last n lines of the log as it is now (0: none; then `follow` shows only new ones). */
  tail?: number;
  /** Keep reading what is appended, until stillRunning() says the writer is done. */
  follow?: boolean;
  stillRunning?: () => boolean;
  /** How often to look for more while following (default 100 ms). */
  pollMs?: number;
}

const CHUNK = 64 * 1024;

export async function* readLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const since = opts.since ? BigInt(opts.since.getTime()) * 1_000_000n : undefined;
  const until = opts.until ? BigInt(opts.until.getTime()) * 1_000_000n : undefined;
  const pollMs = opts.pollMs ?? 100;
  const stillRunning = opts.stillRunning ?? (() => false);
  let file: FileHandle | undefined;
  try {
    for (;;) {
      file = await openIfPresent(path);
      if (file || !opts.follow || !stillRunning()) break;
      await sleep(pollMs);
    }
    if (!file) return;
    // Without follow, the log as it is now: a line the container adds while
    // it is read is not part of the answer (nor one more than --tail asked for).
    const end = opts.follow ? Number.POSITIVE_INFINITY : (await file.stat()).size;
    let position = opts.tail !== undefined && opts.tail >= 0 ? await tailOffset(file, opts.tail, Number.isFinite(end) ? end : (await file.stat()).size) : 0;
    let partial = '';
    const decoder = new StringDecoder('utf8'); // a read may end inside a character
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      // Whether the writer is done is asked before the last read, so that
      // what it wrote just before it ended is still read.
      const writing = opts.follow ? stillRunning() : false;
      for (;;) {
        if (position >= end) break;
        const { bytesRead } = await file.read(buf, 0, Math.min(CHUNK, end - position), position);
        if (!bytesRead) break;
        position += bytesRead;
        const lines = (partial + decoder.write(buf.subarray(0, bytesRead))).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const entry = parseLine(line);
          if (!entry) continue;
          const ns = timeNs(entry.time);
          if (until !== undefined && ns !== undefined && ns > until) return;
          if (since !== undefined && ns !== undefined && ns < since) continue;
          yield entry;
        }
      }
      if (!writing) return;
      await sleep(pollMs);
    }
  } finally {
    await file?.close();
  }
}

/** Docker's `logs -t` form of an entry's time: RFC 3339 with trailing zeros of the fraction dropped. */
export function formatTimestamp(time: string): string {
  return time.replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

/** The entry a log line holds, or undefined for anything else. */
export function parseLine(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    if (typeof v.log !== 'string' || typeof v.time !== 'string' || (v.stream !== 'stdout' && v.stream !== 'stderr')) return undefined;
    return { stream: v.stream, time: v.time, log: v.log };
  } catch {
    return undefined;
  }
}

/** Nanoseconds since the epoch of an RFC 3339 time, or undefined if it is not one. */
function timeNs(time: string): bigint | undefined {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Where the last n lines of the file start (its end for 0). */
async function tailOffset(file: FileHandle, n: number, size: number): Promise<number> {
  if (n === 0) return size;
  let end = size;
  let newlines = 0;
  const buf = Buffer.alloc(CHUNK);
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const { bytesRead } = await file.read(buf, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue;
      // The file's last "\n" ends its last line; it starts none.
      if (start + i === size - 1) continue;
      if (++newlines === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
