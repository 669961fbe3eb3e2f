// The container commands' pure parts, as Docker's CLI has them: durations in
// STATUS, --restart, --since/--until, signal names, inspect -f templates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, renderObject } from '../../src/cli/format.js';
import { parseRestartPolicy } from '../../src/cli/container/flags-process.js';
import { parseTime } from '../../src/cli/container/logs.js';
import { signalNumber } from '../../src/runtime/signals.js';

test('humanDuration truncates seconds and minutes and rounds hours, as Go units.HumanDuration', () => {
  assert.equal(humanDuration(999), 'Less than a second');
  assert.equal(humanDuration(1500), '1 second');
  assert.equal(humanDuration(59_900), '59 seconds');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(119_000), 'About a minute');
  assert.equal(humanDuration(150_000), '2 minutes');
  assert.equal(humanDuration(59 * 60_000), '59 minutes');
  assert.equal(humanDuration(90 * 60_000), '2 hours');
  assert.equal(humanDuration(3 * 24 * 3600_000), '3 days');
});

test('--restart: the four policies, a retry count only for on-failure, clear errors', () => {
  assert.deepEqual(parseRestartPolicy('no'), { Name: 'no' });
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always' });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped' });
  assert.deepEqual(parseRestartPolicy('on-failure'), { Name: 'on-failure', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => parseRestartPolicy('always:3'), /maximum retry count can only be used with 'on-failure'/);
  assert.throws(() => parseRestartPolicy('on-failure:x'), /must be a positive integer/);
  assert.throws(() => parseRestartPolicy('sometimes'), /unknown policy 'sometimes'/);
});

test('logs --since/--until: RFC 3339, Unix time, and durations back from now', () => {
  const now = Date.parse('2026-12-01T10:00:00Z');
  assert.equal(parseTime('2026-12-01T09:00:00Z', '--since', now).toISOString(), '2026-12-01T09:00:00.000Z');
  assert.equal(parseTime('1764579600', '--since', now).toISOString(), '2025-12-01T09:00:00.000Z');
  assert.equal(parseTime('1h30m', '--since', now).toISOString(), '2026-12-01T08:30:00.000Z');
  assert.equal(parseTime('500ms', '--since', now).getTime(), now - 500);
  assert.throws(() => parseTime('yesterday', '--since', now), /failed to parse value as time or duration: "yesterday"/);
});

test('signals by name, number and real-time offset', () => {
  assert.equal(signalNumber('KILL'), 9);
  assert.equal(signalNumber('sigterm'), 15);
  assert.equal(signalNumber('SIGUSR1'), 10);
  assert.equal(signalNumber('9'), 9);
  assert.equal(signalNumber('SIGRTMIN+3'), 37);
  assert.equal(signalNumber('RTMAX'), 64);
  assert.throws(() => signalNumber('SIGFOO'), /invalid signal "SIGFOO"/);
  assert.throws(() => signalNumber('0'), /invalid signal "0"/);
  assert.throws(() => signalNumber('65'), /invalid signal "65"/);
});

test('inspect -f: fields, nested fields, json, index, and Go\'s printing of maps and lists', () => {
  const c = { Name: '/web', State: { Running: true, Pid: 42 }, Config: { Labels: { a: 'b' }, Env: ['A=1', 'B=2'] }, Nothing: null };
  assert.equal(renderObject('{{.Name}} {{.State.Running}} {{.State.Pid}}', c), '/web true 42\n');
  assert.equal(renderObject('{{json .State}}', c), '{"Running":true,"Pid":42}\n');
  assert.equal(renderObject('{{index .Config.Labels "a"}}', c), 'b\n');
  assert.equal(renderObject('{{.Config.Env}} {{.Config.Labels}}', c), '[A=1 B=2] map[a:b]\n');
  // Go prints a nil value as <nil> and a key the map lacks as <no value>.
  assert.equal(renderObject('{{.Nothing}}', c), '<nil>\n');
  assert.equal(renderObject('{{.Missing}}', c), '<no value>\n');
  assert.equal(renderObject('{{range .Config.Env}}{{.}};{{end}}', c), 'A=1;B=2;\n');
});
