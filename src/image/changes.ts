// `import --change` and `commit --change`: the Dockerfile instructions that
// only touch an image's config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
// VOLUME, WORKDIR, STOPSIGNAL), applied as Docker applies them.
import { invalid } from '../util/errors.js';

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
      default:
        throw invalid('InvalidChange', `--change "${change}": ${instruction} is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)`);
    }
  }
  return out;
}
