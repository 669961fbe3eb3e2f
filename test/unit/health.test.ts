import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration, formatGoDuration } from '../../src/util/duration.js';
import {
  mergeHealthConfig, validateHealthConfig, probeArgs,
} from '../../src/engine/health.js';
import { healthConfigFromFlags } from '../../src/cli/container/flags-health.js';
import { applyChanges, type ConfigChanges } from '../../src/image/changes.js';

const S = 1_000_000_000;
const MS = 1_000_000;

test('Go durations parse as time.ParseDuration does', () => {
  assert.equal(parseGoDuration('30s'), 30 * S);
  assert.equal(parseGoDuration('1m30s'), 90 * S);
  assert.equal(parseGoDuration('500ms'), 500 * MS);
  assert.equal(parseGoDuration('1.5h'), 5400 * S);
  assert.equal(parseGoDuration('.5s'), 500 * MS);
  assert.equal(parseGoDuration('1.s'), S);
  assert.equal(parseGoDuration('10us'), 10_000);
  assert.equal(parseGoDuration('10µs'), 10_000);
  assert.equal(parseGoDuration('7ns'), 7);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('-1m'), -60 * S);
  assert.equal(parseGoDuration('+2s'), 2 * S);
  assert.equal(parseGoDuration('1h2m3s4ms'), 3723 * S + 4 * MS);
});

test('bad Go durations say what Go says', () => {
  assert.throws(() => parseGoDuration('30'), /^Error: time: missing unit in duration "30"$/);
  assert.throws(() => parseGoDuration('1d'), /^Error: time: unknown unit "d" in duration "1d"$/);
  assert.throws(() => parseGoDuration(''), /time: invalid duration ""/);
  assert.throws(() => parseGoDuration('s'), /time: invalid duration "s"/);
  assert.throws(() => parseGoDuration('.s'), /time: invalid duration ".s"/);
  assert.throws(() => parseGoDuration('-'), /time: invalid duration "-"/);
  assert.throws(() => parseGoDuration('1.5.5s'), /missing unit/);
  assert.throws(() => parseGoDuration('200000h'), /time: invalid duration/);
});

test('durations print as Go prints them', () => {
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(30 * S), '30s');
  assert.equal(formatGoDuration(90 * S), '1m30s');
  assert.equal(formatGoDuration(3600 * S), '1h0m0s');
  assert.equal(formatGoDuration(1500 * MS), '1.5s');
  assert.equal(formatGoDuration(500 * MS), '500ms');
  assert.equal(formatGoDuration(MS), '1ms');
  assert.equal(formatGoDuration(1500), '1.5µs');
  assert.equal(formatGoDuration(7), '7ns');
  assert.equal(formatGoDuration(-2 * S), '-2s');
});

test('the flags override the image healthcheck field by field', () => {
  const image = { Test: ['CMD', 'check'], Interval: 10 * S, Timeout: 5 * S, Retries: 5, StartPeriod: 2 * S };
  assert.deepEqual(mergeHealthConfig(image, undefined), image);
  assert.deepEqual(mergeHealthConfig(undefined, { Test: ['CMD-SHELL', 'x'] }), { Test: ['CMD-SHELL', 'x'] });
  assert.equal(mergeHealthConfig(undefined, undefined), undefined);
  // --health-interval alone keeps the image's command and everything else.
  assert.deepEqual(mergeHealthConfig(image, { Interval: 1 * S, Timeout: 0, Retries: 0 }),
    { Test: ['CMD', 'check'], Interval: 1 * S, Timeout: 5 * S, StartPeriod: 2 * S, StartInterval: undefined, Retries: 5 });
  assert.deepEqual(mergeHealthConfig(image, { Test: ['CMD-SHELL', 'other'] })?.Test, ['CMD-SHELL', 'other']);
  // --no-healthcheck: NONE wins over the image's command.
  const none = mergeHealthConfig(image, { Test: ['NONE'] });
  assert.deepEqual(none?.Test, ['NONE']);
  assert.equal(probeArgs(none), undefined);
});

test('the probe runs the command directly (CMD) or through /bin/sh -c (CMD-SHELL)', () => {
  assert.deepEqual(probeArgs({ Test: ['CMD', 'ls', '-l'] }), ['ls', '-l']);
  assert.deepEqual(probeArgs({ Test: ['CMD-SHELL', 'exit 1'] }), ['/bin/sh', '-c', 'exit 1']);
  assert.equal(probeArgs({ Test: ['NONE'] }), undefined);
  assert.equal(probeArgs({ Test: ['CMD'] }), undefined);
  assert.equal(probeArgs({ Test: [] }), undefined);
  assert.equal(probeArgs({ Interval: S }), undefined);
  assert.equal(probeArgs(undefined), undefined);
});

test('a healthcheck shorter than 1ms or with negative retries is refused', () => {
  assert.throws(() => validateHealthConfig({ Interval: 500_000 }), /^BerthError: Interval in Healthcheck cannot be less than 1ms$/);
  assert.throws(() => validateHealthConfig({ Timeout: 1 }), /Timeout in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ StartPeriod: -5 }), /StartPeriod in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ StartInterval: 10 }), /StartInterval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  validateHealthConfig({ Interval: MS, Timeout: 0, Retries: 0 });
  validateHealthConfig(undefined);
});

test('--health-* flags become the body\'s Healthcheck as docker/cli builds it', () => {
  assert.equal(healthConfigFromFlags({ healthcheck: true }), undefined);
  assert.deepEqual(healthConfigFromFlags({ healthcheck: true, healthCmd: 'curl -f localhost', healthInterval: '1m30s', healthRetries: '4' }), {
    Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 90 * S, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 4,
  });
  // A timing flag without --health-cmd: no Test, so the image's command stays.
  assert.equal(healthConfigFromFlags({ healthcheck: true, healthTimeout: '2s' })?.Test, undefined);
  assert.deepEqual(healthConfigFromFlags({ healthcheck: false }), { Test: ['NONE'] });
});

test('bad --health-* flags are refused with Docker\'s messages', () => {
  assert.throws(() => healthConfigFromFlags({ healthcheck: false, healthCmd: 'true' }), /--no-healthcheck conflicts with --health-\* options/);
  assert.throws(() => healthConfigFromFlags({ healthcheck: true, healthInterval: '5' }),
    /invalid argument "5" for "--health-interval" flag: time: missing unit in duration "5"/);
  assert.throws(() => healthConfigFromFlags({ healthcheck: true, healthTimeout: '-1s' }), /--health-timeout cannot be negative/);
  assert.throws(() => healthConfigFromFlags({ healthcheck: true, healthStartPeriod: 'soon' }), /"--health-start-period" flag: time: invalid duration "soon"/);
  assert.throws(() => healthConfigFromFlags({ healthcheck: true, healthRetries: 'three' }),
    /invalid argument "three" for "--health-retries" flag: strconv.ParseInt: parsing "three": invalid syntax/);
  assert.throws(() => healthConfigFromFlags({ healthcheck: true, healthRetries: '-2' }), /--health-retries cannot be negative/);
});

// The schedule (when a probe is due) and the status rules (retries, the
// start period) are the monitor's now (native/health.c): tested on real
// containers in test/integration/health.test.ts.

test('--change HEALTHCHECK reads as the Dockerfile parser reads it', () => {
  const shell = applyChanges<ConfigChanges>({}, ['HEALTHCHECK --interval=5s --timeout=3s --retries=4 CMD wget -q -O- localhost || exit 1']);
  assert.deepEqual(shell.Healthcheck, {
    Test: ['CMD-SHELL', 'wget -q -O- localhost || exit 1'], Interval: 5 * S, Timeout: 3 * S, StartPeriod: 0, StartInterval: 0, Retries: 4,
  });
  const json = applyChanges<ConfigChanges>({}, ['HEALTHCHECK --start-period=1m --start-interval=500ms CMD ["/bin/check", "--fast"]']);
  assert.deepEqual(json.Healthcheck?.Test, ['CMD', '/bin/check', '--fast']);
  assert.equal(json.Healthcheck?.StartPeriod, 60 * S);
  assert.equal(json.Healthcheck?.StartInterval, 500 * MS);
  assert.deepEqual(applyChanges<ConfigChanges>({ Healthcheck: { Test: ['CMD', 'x'] } }, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
});

test('a bad --change HEALTHCHECK is refused and says why', () => {
  assert.throws(() => applyChanges({}, ['HEALTHCHECK NONE --interval=1s']), /HEALTHCHECK NONE takes no arguments/);
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --interval=1s NONE']), /HEALTHCHECK NONE takes no arguments/);
  assert.throws(() => applyChanges({}, ['HEALTHCHECK RUN true']), /Unknown type "RUN" in HEALTHCHECK \(try CMD\)/);
  assert.throws(() => applyChanges({}, ['HEALTHCHECK CMD']), /Missing command after HEALTHCHECK CMD/);
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --interval=5 CMD true']), /time: missing unit in duration "5"/);
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --timeout=10us CMD true']), /Interval "timeout" cannot be less than 1ms/);
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --retries=-1 CMD true']), /--retries cannot be negative \(-1\)/);
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --every=1s CMD true']), /unknown flag: --every/);
});
