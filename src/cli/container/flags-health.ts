// Flags of `run` and `create` for healthchecks (--health-cmd, --health-interval, …, --no-healthcheck),
// read as Docker's CLI reads them: durations in Go's syntax ("30s", "1m30s",
// "500ms"), negatives refused here, and --no-healthcheck alone. The minimum
// of 1ms is the engine's rule (validateHealthConfig), shared with the API.
import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { parseGoDuration, DurationSyntaxError } from '../../util/duration.js';
import { type HealthConfig, validateHealthConfig } from '../../engine/index.js';
import { badFlag } from './flags-host.js';
import type { FlagGroup, ParsedFlags } from './flags.js';

interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  healthcheck?: boolean;
}

function duration(value: string | undefined, flag: string): number {
  if (value === undefined) return 0;
  let ns: number;
  try {
    ns = parseGoDuration(value);
  } catch (err) {
    if (err instanceof DurationSyntaxError) return badFlag(value, flag, err.message);
    throw err;
  }
  if (ns < 0) throw invalid('InvalidFlag', `${flag} cannot be negative`);
  return ns;
}

function retries(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^[-+]?\d+$/.test(value)) return badFlag(value, '--health-retries', `strconv.ParseInt: parsing "${value}": invalid syntax`);
  const n = Number(value);
  if (n < 0) throw invalid('InvalidFlag', '--health-retries cannot be negative');
  if (n > 2 ** 31 - 1) return badFlag(value, '--health-retries', `strconv.ParseInt: parsing "${value}": value out of range`);
  return n;
}

/** The create body's Healthcheck from the flags, as docker/cli's parse: undefined when no health flag is given. */
export function healthConfigFromFlags(flags: HealthFlags): HealthConfig | undefined {
  const config: HealthConfig = {
    Interval: duration(flags.healthInterval, '--health-interval'),
    Timeout: duration(flags.healthTimeout, '--health-timeout'),
    StartPeriod: duration(flags.healthStartPeriod, '--health-start-period'),
    StartInterval: duration(flags.healthStartInterval, '--health-start-interval'),
    Retries: retries(flags.healthRetries),
  };
  const cmd = flags.healthCmd ?? '';
  const anySet = cmd !== '' || Object.values(config).some((v) => v !== 0);
  // commander's --no-healthcheck sets `healthcheck: false`.
  if (flags.healthcheck === false) {
    if (anySet) throw invalid('InvalidFlag', '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!anySet) return undefined;
  return { ...(cmd !== '' ? { Test: ['CMD-SHELL', cmd] } : {}), ...config };
}

export const healthFlags: FlagGroup = {
  add: (cmd: Command) => cmd
    .option('--health-cmd <command>', 'command to run to check health')
    .option('--health-interval <duration>', 'time between running the check (ms|s|m|h) (default 0s)')
    .option('--health-timeout <duration>', 'maximum time to allow one check to run (ms|s|m|h) (default 0s)')
    .option('--health-retries <n>', 'consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)')
    .option('--health-start-interval <duration>', 'time between running the check during the start period (ms|s|m|h) (default 0s)')
    .option('--no-healthcheck', 'disable any container-specified HEALTHCHECK'),
  apply: (opts: ParsedFlags, body) => {
    const config = healthConfigFromFlags(opts as HealthFlags);
    if (!config) return;
    validateHealthConfig(config);
    body.Healthcheck = config;
  },
};
