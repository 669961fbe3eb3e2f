// Flags of `run` and `create` for storage: -v/--volume (HostConfig.Binds, as
// written), --mount (Docker CLI's CSV, read into HostConfig.Mounts) and
// --tmpfs (HostConfig.Tmpfs). The meaning and the checks are the engine's
// (mount-points.ts, shared with the API); they run here too so that a bad
// flag fails before an image is pulled.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ramInBytes } from '../../util/units.js';
import { collect } from '../context.js';
import { hostConfigOf, type FlagGroup, type ParsedFlags } from './flags.js';
import { badFlag } from './flags-host.js';
import { type MountSpec, mountPointsOf } from '../../engine/index.js';

/** One CSV record, as Go's encoding/csv reads it (quotes around a field, "" for a quote inside). */
export function csvFields(value: string, flag: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) return badFlag(value, flag, `parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
        if (value[i] === '"') {
          if (value[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += value[i++];
      }
      if (i < value.length && value[i] !== ',') return badFlag(value, flag, `parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
    } else {
      while (i < value.length && value[i] !== ',') {
        if (value[i] === '"') return badFlag(value, flag, `parse error on line 1, column ${i + 1}: bare " in non-quoted-field`);
        field += value[i++];
      }
    }
    fields.push(field);
    if (i >= value.length) return fields;
    i++; // the comma
  }
}

/** Go's strconv.ParseBool. */
function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** `--mount type=…,source=…,target=…[,readonly][,…]`, with Docker CLI's keys and messages. */
export function parseMountFlag(value: string): MountSpec {
  const bad = (why: string): never => badFlag(value, '--mount', why);
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly: boolean | undefined;
  let bind: NonNullable<MountSpec['BindOptions']> | undefined;
  let volume: NonNullable<MountSpec['VolumeOptions']> | undefined;
  let tmpfs: NonNullable<MountSpec['TmpfsOptions']> | undefined;
  const boolOf = (key: string, val: string) => parseBool(val) ?? bad(`invalid value for ${key}: ${val}`);
  for (const field of csvFields(value, '--mount')) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    if (val === undefined) {
      if (key === 'readonly' || key === 'ro') readOnly = true;
      else if (key === 'volume-nocopy') (volume ??= {}).NoCopy = true;
      else if (key === 'bind-nonrecursive') (bind ??= {}).NonRecursive = true;
      else bad(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type': type = val.toLowerCase(); break;
      case 'source': case 'src':
        // Docker's CLI takes "." and "./x" relative to the current directory; any other relative path stays a volume name.
        source = val === '.' || val.startsWith('./') ? resolve(val) : val;
        break;
      case 'target': case 'dst': case 'destination': target = val; break;
      case 'readonly': case 'ro': readOnly = boolOf(key, val); break;
      case 'bind-propagation': (bind ??= {}).Propagation = val.toLowerCase(); break;
      case 'bind-nonrecursive': (bind ??= {}).NonRecursive = boolOf(key, val); break;
      case 'bind-create-mountpoint': (bind ??= {}).CreateMountpoint = boolOf(key, val); break;
      case 'volume-nocopy': (volume ??= {}).NoCopy = parseBool(val) ?? bad(`invalid value for volume-nocopy: ${val}`); break;
      case 'volume-label': {
        const [k, ...rest] = val.split('=');
        if (k) ((volume ??= {}).Labels ??= {})[k] = rest.join('=');
        break;
      }
      case 'volume-driver':
        if (val !== 'local') bad(`volume driver "${val}" is not supported (only "local")`);
        volume ??= {};
        break;
      case 'tmpfs-size':
        try {
          (tmpfs ??= {}).SizeBytes = ramInBytes(val);
        } catch {
          bad(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) bad(`invalid value for ${key}: ${val}`);
        (tmpfs ??= {}).Mode = parseInt(val, 8);
        break;
      default:
        bad(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!['bind', 'volume', 'tmpfs'].includes(type)) bad(`invalid mount type "${type}": use bind, volume or tmpfs`);
  if (!target) bad('target is required');
  if (volume && type !== 'volume') bad(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (bind && type !== 'bind') bad(`cannot mix 'bind-*' options with mount type '${type}'`);
  if (tmpfs && type !== 'tmpfs') bad(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  return {
    Type: type as MountSpec['Type'],
    ...(source !== undefined ? { Source: source } : {}),
    Target: target!,
    ...(readOnly !== undefined ? { ReadOnly: readOnly } : {}),
    ...(bind ? { BindOptions: bind } : {}),
    ...(volume ? { VolumeOptions: volume } : {}),
    ...(tmpfs ? { TmpfsOptions: tmpfs } : {}),
  };
}

export const storageFlags: FlagGroup = {
  add: (cmd: Command) => cmd
    .option('-v, --volume <src:dst[:opts]>', 'bind a host path (absolute) or a named volume; "/ctr" alone: an anonymous volume. opts: ro, rw, nocopy, z, Z, [r]private, [r]shared, [r]slave', collect, [] as string[])
    .option('--mount <spec>', 'type=bind|volume|tmpfs,source=…,target=…[,readonly][,volume-nocopy][,bind-propagation=…][,tmpfs-size=…][,tmpfs-mode=…]', collect, [] as string[])
    .option('--tmpfs <path[:opts]>', 'mount a tmpfs (options as mount(8): size=64m,mode=1777,…)', collect, [] as string[]),
  apply: (opts: ParsedFlags, body) => {
    const binds = (opts.volume as string[] | undefined) ?? [];
    const mounts = ((opts.mount as string[] | undefined) ?? []).map(parseMountFlag);
    const tmpfs: Record<string, string> = {};
    for (const entry of (opts.tmpfs as string[] | undefined) ?? []) {
      const colon = entry.indexOf(':');
      tmpfs[colon < 0 ? entry : entry.slice(0, colon)] = colon < 0 ? '' : entry.slice(colon + 1);
    }
    if (!binds.length && !mounts.length && !Object.keys(tmpfs).length) return;
    const hc = hostConfigOf(body);
    if (binds.length) hc.Binds = binds;
    if (mounts.length) hc.Mounts = mounts;
    if (Object.keys(tmpfs).length) hc.Tmpfs = tmpfs;
    mountPointsOf(hc);
  },
};
