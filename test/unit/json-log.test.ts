// Reading the json-file log as `berth logs` does: tail, since/until, follow
// until the writer is done, and lines that are half-written or corrupt.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLog, formatTimestamp, type LogEntry, type ReadLogOptions } from '../../src/runtime/json-log.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-json-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const line = (log: string, second: number, stream = 'stdout') =>
  JSON.stringify({ log, stream, time: `2026-12-01T06:00:${String(second).padStart(2, '0')}.123456789Z` }) + '\n';

function logFile(text: string): string {
  const path = join(dir, `log${++n}`);
  writeFileSync(path, text);
  return path;
}

async function read(path: string, opts: ReadLogOptions = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const e of readLog(path, opts)) entries.push(e);
  return entries;
}

const sample = [line('a\n', 1), line('b\n', 2, 'stderr'), line('c\n', 3), line('d\n', 4)].join('');

test('every entry, in order, with its stream and time', async () => {
  const entries = await read(logFile(sample));
  assert.deepEqual(entries.map((e) => [e.log, e.stream]), [['a\n', 'stdout'], ['b\n', 'stderr'], ['c\n', 'stdout'], ['d\n', 'stdout']]);
  assert.equal(entries[0]!.time, '2026-12-01T06:00:01.123456789Z');
});

test('tail counts lines from the end; 0 gives none, more than there are gives all', async () => {
  const path = logFile(sample);
  assert.deepEqual((await read(path, { tail: 2 })).map((e) => e.log), ['c\n', 'd\n']);
  assert.deepEqual((await read(path, { tail: 0 })).map((e) => e.log), []);
  assert.deepEqual((await read(path, { tail: 10 })).map((e) => e.log), ['a\n', 'b\n', 'c\n', 'd\n']);
  // Across the reader's 64 KiB chunks.
  const big = logFile(Array.from({ length: 5000 }, (_, i) => line(`${i}\n`, 5)).join(''));
  assert.deepEqual((await read(big, { tail: 3 })).map((e) => e.log), ['4997\n', '4998\n', '4999\n']);
});

test('since and until keep the entries between them, to the nanosecond of the stored time', async () => {
  const path = logFile(sample);
  assert.deepEqual((await read(path, { since: new Date('2026-12-01T06:00:02.123Z') })).map((e) => e.log), ['b\n', 'c\n', 'd\n']);
  assert.deepEqual((await read(path, { since: new Date('2026-12-01T06:00:02.124Z') })).map((e) => e.log), ['c\n', 'd\n']);
  assert.deepEqual((await read(path, { until: new Date('2026-12-01T06:00:03.124Z') })).map((e) => e.log), ['a\n', 'b\n', 'c\n']);
  assert.deepEqual((await read(path, { since: new Date('2026-12-01T06:00:02Z'), until: new Date('2026-12-01T06:00:04Z'), tail: 1 })).map((e) => e.log), []);
});

test('a corrupt line is skipped, not a crash', async () => {
  const path = logFile(line('a\n', 1) + '{"log":"x", broken\n' + 'not json at all\n' + '{"log":1,"stream":"stdout","time":"t"}\n' + line('b\n', 2));
  assert.deepEqual((await read(path)).map((e) => e.log), ['a\n', 'b\n']);
});

test('a missing log reads empty', async () => {
  assert.deepEqual(await read(join(dir, 'no-such-log')), []);
});

test('follow waits for a half-written line, reads what is appended, and ends once the writer is done', async () => {
  const path = logFile(line('a\n', 1) + line('b\n', 2).slice(0, 10));
  let running = true;
  const seen: string[] = [];
  const reader = (async () => {
    for await (const e of readLog(path, { follow: true, stillRunning: () => running, pollMs: 5 })) {
      seen.push(e.log);
      if (e.log === 'a\n') appendFileSync(path, line('b\n', 2).slice(10) + line('ü\n', 3).slice(0, 12));
      if (e.log === 'b\n') {
        appendFileSync(path, line('ü\n', 3).slice(12));
        running = false; // what was written before the writer ended is still read
      }
    }
  })();
  await reader;
  assert.deepEqual(seen, ['a\n', 'b\n', 'ü\n']);
});

test('follow with tail 0 shows only what comes after', async () => {
  const path = logFile(sample);
  let polls = 0;
  const entries = await read(path, {
    tail: 0, follow: true, pollMs: 1,
    stillRunning: () => {
      if (++polls === 2) appendFileSync(path, line('new\n', 9));
      return polls < 4;
    },
  });
  assert.deepEqual(entries.map((e) => e.log), ['new\n']);
});

test('formatTimestamp drops trailing zeros of the fraction, as Docker prints RFC 3339 with nanoseconds', () => {
  assert.equal(formatTimestamp('2026-12-01T06:46:57.123456789Z'), '2026-12-01T06:46:57.123456789Z');
  assert.equal(formatTimestamp('2026-12-01T06:46:57.120000000Z'), '2026-12-01T06:46:57.12Z');
  assert.equal(formatTimestamp('2026-12-01T06:46:57.000000000Z'), '2026-12-01T06:46:57Z');
});
