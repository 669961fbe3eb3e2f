// `import --change` and `commit --change`: the Dockerfile instructions that
// only touch an image's config (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
// LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL), applied as Docker applies them.
import { invalid } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';

export interface ConfigChanges {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  User?: string;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
}

/** JSON form (`["a","b"]`) or shell form (`a b` → `/bin/sh -c "a b"`). */
function commandForm(text: string, instruction: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw invalid('InvalidChange', `--change "${instruction} ${text}": not a valid JSON array`);
    }
    if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
      throw invalid('InvalidChange', `--change "${instruction} ${text}": expected an array of strings`);
    }
    return parsed;
  }
  return ['/bin/sh', '-c', trimmed];
}

/** `KEY=VALUE KEY2="two words"` or the legacy `KEY value`. */
function keyValues(text: string, instruction: string): [string, string][] {
  const trimmed = text.trim();
  if (!trimmed.includes('=')) {
    const [key, ...rest] = trimmed.split(/\s+/);
    if (!key || rest.length === 0) throw invalid('InvalidChange', `--change "${instruction} ${text}": expected KEY=VALUE`);
    return [[key, rest.join(' ')]];
  }
  const pairs: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(trimmed))) {
    let value = m[2]!;
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value.startsWith("'")) value = value.slice(1, -1);
    pairs.push([m[1]!, value]);
  }
  return pairs;
}

/**
 * `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D]
 * [--start-interval=D] [--retries=N] CMD command` or `HEALTHCHECK NONE`, as
 * the Dockerfile parser reads it: shell form → CMD-SHELL, JSON form → CMD.
 */
function healthcheck(text: string): NonNullable<ConfigChanges['Healthcheck']> {
  const bad = (why: string) => invalid('InvalidChange', `--change "HEALTHCHECK ${text}": ${why}`);
  let rest = text.trim();
  const flags = new Map<string, string>();
  for (let m; (m = /^--([a-z-]+)=(\S*)\s*/.exec(rest)); rest = rest.slice(m[0].length)) flags.set(m[1]!, m[2]!);
  const [, kind = '', args = ''] = /^(\S*)\s*([\s\S]*)$/.exec(rest)!;
  if (kind.toUpperCase() === 'NONE') {
    if (args !== '' || flags.size > 0) throw bad('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind.toUpperCase() !== 'CMD') throw bad(kind ? `Unknown type "${kind.toUpperCase()}" in HEALTHCHECK (try CMD)` : 'HEALTHCHECK requires at least one argument');
  for (const name of flags.keys()) {
    if (!['interval', 'timeout', 'start-period', 'start-interval', 'retries'].includes(name)) throw bad(`unknown flag: --${name}`);
  }
  const interval = (name: string): number => {
    const value = flags.get(name);
    if (!value) return 0;
    let ns: number;
    try {
      ns = parseGoDuration(value);
    } catch (err) {
      throw bad((err as Error).message);
    }
    if (ns !== 0 && ns < 1_000_000) throw bad(`Interval "${name}" cannot be less than 1ms`);
    return ns;
  };
  const retriesText = flags.get('retries') ?? '';
  if (retriesText !== '' && !/^[-+]?\d+$/.test(retriesText)) throw bad(`strconv.ParseInt: parsing "${retriesText}": invalid syntax`);
  const retries = retriesText === '' ? 0 : Number(retriesText);
  if (retries < 0) throw bad(`--retries cannot be negative (${retries})`);
  const json = args.trim().startsWith('[');
  const command = json ? commandForm(args, 'HEALTHCHECK CMD') : [args.trim()];
  if (command.length === 0 || command[0] === '') throw bad('Missing command after HEALTHCHECK CMD');
  return {
    Test: [json ? 'CMD' : 'CMD-SHELL', ...command],
    Interval: interval('interval'), Timeout: interval('timeout'), StartPeriod: interval('start-period'),
    StartInterval: interval('start-interval'), Retries: retries,
  };
}

export function applyChanges<T extends ConfigChanges>(config: T, changes: readonly string[]): T {
  const out: T = structuredClone(config);
  for (const change of changes) {
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
    if (!m) throw invalid('InvalidChange', `--change "${change}": expected INSTRUCTION ARGUMENTS`);
    const instruction = m[1]!.toUpperCase();
    const arg = m[2]!;
    switch (instruction) {
      case 'CMD': out.Cmd = commandForm(arg, instruction); break;
      case 'ENTRYPOINT': out.Entrypoint = commandForm(arg, instruction); break;
      case 'ENV': {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of keyValues(arg, instruction)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(arg, instruction)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of arg.trim().split(/\s+/)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw invalid('InvalidChange', `--change "EXPOSE ${arg}": invalid port "${p}"`);
          ports[p.includes('/') ? p : `${p}/tcp`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const paths = arg.trim().startsWith('[') ? commandForm(arg, instruction) : arg.trim().split(/\s+/);
        out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
        break;
      }
      case 'USER': out.User = arg.trim(); break;
      case 'WORKDIR': out.WorkingDir = arg.trim(); break;
      case 'STOPSIGNAL': out.StopSignal = arg.trim(); break;
      case 'HEALTHCHECK': out.Healthcheck = healthcheck(arg); break;
      default:
        throw invalid('InvalidChange', `--change "${change}": ${instruction} is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)`);
    }
  }
  return out;
}
