// The monitor options of a detached container, as plan steps and wire bytes,
// without root: which ops, in which order, and what a terminal does with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, type BuildContext } from '../../src/runtime/builder.js';
import { parseSpec, type Spec } from '../../src/runtime/spec.js';
import { defaultSpec } from '../../src/runtime/defaults.js';
import { describePlan } from '../../src/runtime/plan-text.js';
import { encodePlan, OPCODES, type PlanOp } from '../../src/runtime/plan.js';
import { BerthError } from '../../src/util/errors.js';

const ctx: BuildContext = {
  bundle: '/bundle',
  exitFile: '/run/x/exit',
  startFifo: '/run/x/start.fifo',
  lastCap: 40,
  hardLimits: new Map(),
  canRaiseHardLimits: false,
  isDirectory: () => true,
  isProcfs: () => false,
};

function spec(terminal = false): Spec {
  const s = defaultSpec({ args: ['/bin/sh'] });
  s.process!.terminal = terminal;
  return parseSpec(JSON.parse(JSON.stringify(s)));
}

const monitorOps = (ops: PlanOp[]) => ops.slice(0, ops.findIndex((o) => o.op === 'clone')).map((o) => o.op);

const full = {
  logFile: '/var/lib/berth/containers/x/x-json.log',
  attachSocket: '/run/berth/attach/x.sock',
  openStdin: true,
  stdinOnce: true,
  exitCommand: ['/usr/bin/node', '/berth/main.js', 'internal', 'exited', 'x'],
  healthcheck: {
    command: ['/bin/sh', '-c', 'wget -q localhost'], intervalNs: 30e9, timeoutNs: 5e9, startPeriodNs: 60e9, startIntervalNs: 2e9, retries: 3,
    resultsFile: '/var/lib/berth/containers/x/health-results', hook: ['/usr/bin/node', '/berth/main.js', 'internal', 'healthcheck', 'x'],
  },
};
const withCgroup: BuildContext = {
  ...ctx,
  probePlanFile: '/run/x/probe.plan',
  cgroup: { procsFiles: ['/sys/fs/cgroup/freezer/berth/x/cgroup.procs'], path: '/berth/x', version: 1, freezer: { file: '/sys/fs/cgroup/freezer/berth/x/freezer.state', frozen: 'FROZEN' } },
};

test('each monitor option is one monitor-phase op, before clone', () => {
  const { ops } = buildPlan(spec(), { ...withCgroup, monitor: full });
  assert.deepEqual(monitorOps(ops), [
    'monitorExitFile', 'monitorStartFifo', 'monitorLogFile', 'monitorOpenStdin', 'monitorAttachSocket', 'monitorExitCommand', 'monitorHealthcheck',
  ]);
  const health = ops.find((o): o is Extract<PlanOp, { op: 'monitorHealthcheck' }> => o.op === 'monitorHealthcheck')!;
  assert.deepEqual(health, {
    op: 'monitorHealthcheck', probePlan: '/run/x/probe.plan', results: full.healthcheck.resultsFile, hook: full.healthcheck.hook,
    intervalNs: 30_000_000_000n, timeoutNs: 5_000_000_000n, startPeriodNs: 60_000_000_000n, startIntervalNs: 2_000_000_000n, retries: 3,
    pausedFile: '/sys/fs/cgroup/freezer/berth/x/freezer.state', pausedText: 'FROZEN',
  });
  // The probe's plan is the runtime's to place: without a state directory there is none.
  assert.throws(() => buildPlan(spec(), { ...ctx, monitor: full }), (e: unknown) => e instanceof BerthError && /needs a place for the probe's plan/.test(e.message));
  assert.throws(() => buildPlan(spec(), { ...withCgroup, monitor: { healthcheck: { ...full.healthcheck, retries: 0 } } }),
    (e: unknown) => e instanceof BerthError && e.kind === 'invalid' && /monitor.healthcheck.retries: 0 is not a positive whole number/.test(e.message));
  assert.deepEqual(ops.find((o) => o.op === 'monitorOpenStdin'), { op: 'monitorOpenStdin', stdinOnce: true });
});

test('with a terminal, the monitor that keeps the output holds the terminal: no relay, no console socket', () => {
  const { ops } = buildPlan(spec(true), { ...ctx, relayTerminal: true, monitor: { logFile: '/l', attachSocket: '/s' } });
  assert.ok(ops.some((o) => o.op === 'terminal'));
  assert.ok(!ops.some((o) => o.op === 'monitorRelayTerminal' || o.op === 'monitorConsoleSocket'));
  // Without a kept output a terminal still needs someone to hold it.
  assert.throws(() => buildPlan(spec(true), ctx), (e: unknown) => e instanceof BerthError && /a terminal needs/.test(e.message));
  assert.throws(() => buildPlan(spec(true), { ...ctx, consoleSocket: '/c', monitor: { logFile: '/l' } }),
    (e: unknown) => e instanceof BerthError && e.kind === 'invalid' && /console socket takes the terminal/.test(e.message));
});

test('handed off (runc\'s contract), the monitor keeps nothing: no exit file, and it leaves once the process waits on the FIFO', () => {
  const { ops } = buildPlan(spec(), { ...ctx, pidFile: '/run/x/pid', handOff: true });
  assert.deepEqual(monitorOps(ops), ['monitorPidFile', 'monitorStartFifo', 'monitorHandOff']);
  assert.match(describePlan(ops), /hand it the start FIFO and leave/);
  assert.throws(() => buildPlan(spec(), { ...ctx, handOff: true, monitor: { logFile: '/l' } }), /needs nothing that keeps its monitor/);
  assert.throws(() => buildPlan(spec(true), { ...ctx, handOff: true }), (e: unknown) => e instanceof BerthError && /a terminal needs --console-socket/.test(e.message));
});

test('the wire form of the new ops follows docs/plan-format.md', () => {
  const bytes = encodePlan([
    { op: 'monitorOpenStdin', stdinOnce: true },
    { op: 'monitorHealthcheck', probePlan: '/p', results: '/r', hook: ['/h'], intervalNs: 5n, timeoutNs: 6n, startPeriodNs: 0n, startIntervalNs: 7n, retries: 3, pausedFile: '', pausedText: '' },
  ]);
  const expected = Buffer.concat([
    Buffer.from('BRTHPLAN'), u32(1), u32(2),
    u32(OPCODES.monitorOpenStdin), u32(1), Buffer.from([1]), u64(1n),
    u32(OPCODES.monitorHealthcheck), u32(10), str('/p'), str('/r'), Buffer.from([3]), u32(1), u32(2), Buffer.from('/h'),
    ...[5n, 6n, 0n, 7n, 3n].map((n) => Buffer.concat([Buffer.from([1]), u64(n)])), str(''), str(''),
  ]);
  assert.deepEqual(bytes, expected);
  assert.deepEqual([OPCODES.monitorLogFile, OPCODES.monitorOpenStdin, OPCODES.monitorAttachSocket, OPCODES.monitorExitCommand, OPCODES.monitorHealthcheck], [8, 9, 10, 11, 13]);
});

test('the plan in words says what the monitor will keep and run', () => {
  const { ops } = buildPlan(spec(), { ...withCgroup, monitor: full });
  const text = describePlan(ops);
  assert.match(text, /keep the container's output in \/var\/lib\/berth\/containers\/x\/x-json.log \(Docker's json-file format\)/);
  assert.match(text, /serve attach clients on \/run\/berth\/attach\/x.sock/);
  assert.match(text, /closed when the first of them closes it/);
  assert.match(text, /probe it every 30000 ms \(2000 ms in the first 60000 ms while starting\) with the plan in \/run\/x\/probe.plan, killed after 5000 ms; unhealthy after 3 failures in a row/);
  assert.match(text, /no probe while \/sys\/fs\/cgroup\/freezer\/berth\/x\/freezer.state reads FROZEN/);
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function str(s: string): Buffer {
  return Buffer.concat([Buffer.from([2]), u32(Buffer.byteLength(s)), Buffer.from(s)]);
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
