// Where a container's storage comes from, read from Docker's three spellings
// of it: `-v` strings (HostConfig.Binds), `--mount` objects (HostConfig.Mounts)
// and `--tmpfs` entries (HostConfig.Tmpfs). Each becomes one MountPoint; the
// rules and the error messages are Docker's (moby's volume/mounts linux
// parser), so a body the API server takes unchecked is refused the same way
// as a bad flag. No side effects here: volumes.ts acts on the result.
import { posix } from 'node:path';
import { invalid, type BerthError } from '../util/errors.js';
import { isProcfs, procMountProblem } from '../runtime/mounts.js';
import type { HostConfig, MountSpec } from './host-config.js';

/** A local volume's name, as Docker's local driver allows it. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'] as const;
export type Propagation = (typeof PROPAGATIONS)[number];

export type MountPoint =
  | { type: 'bind'; source: string; target: string; readOnly: boolean; propagation: Propagation; recursive: boolean;
      /** `-v` makes a missing source directory; `--mount` refuses it. */
      createSource: boolean }
  | { type: 'volume'; /** undefined: an anonymous volume. */ name?: string; target: string; readOnly: boolean;
      /** Fill an empty volume from the image's content at the target. */
      copyData: boolean; labels?: Record<string, string> }
  | { type: 'tmpfs'; target: string; /** Mount options besides Docker's noexec,nosuid,nodev. */ options: string[] };

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);

/** Docker's rule for a `-v` mode: known words, at most one of each kind. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const word of mode.split(',')) {
    const kind = [RW_MODES, LABEL_MODES, new Set<string>(PROPAGATIONS), COPY_MODES, CONSISTENCY_MODES].findIndex((s) => s.has(word));
    if (kind < 0) return false;
    counts[kind]!++;
  }
  return counts.every((c) => c <= 1);
}

const specError = (raw: string, why?: string): BerthError =>
  invalid('InvalidVolumeSpec', `invalid volume specification: '${raw}'${why ? `: ${why}` : ''}`);

const mountConfigError = (type: string, why: string): BerthError =>
  invalid('InvalidMount', `invalid mount config for type "${type}": ${why}`);

function checkTarget(target: string): string | undefined {
  if (!target.startsWith('/')) return `invalid mount path: '${target}' mount path must be absolute`;
  if (posix.normalize(target).replace(/(.)\/+$/, '$1') === '/') return 'invalid specification: destination can\'t be \'/\'';
  return undefined;
}

/** The volume-name error Docker gives for `-v data/x:/x` and friends: a host path must be absolute. */
export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name)) {
    throw invalid('InvalidVolumeName', `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** One `-v` string: "/ctr", "src:/ctr" or "src:/ctr:mode"; src is a host path when absolute, else a volume name. */
export function parseBind(raw: string): MountPoint {
  const parts = raw.split(':');
  if (parts[0] === '' || parts.length > 3) throw specError(raw);
  let source = '';
  let target: string;
  let mode = '';
  if (parts.length === 1) {
    target = parts[0]!;
  } else {
    // "/foo:rw" is a destination with a mode, which a volume cannot be.
    if (parts.length === 2 && validMode(parts[1]!)) throw specError(raw);
    [source, target, mode = ''] = parts as [string, string, string?];
  }
  if (!validMode(mode)) throw specError(raw, `invalid mode: ${mode}`);
  const words = mode ? mode.split(',') : [];
  const isBind = source.startsWith('/');
  const targetProblem = checkTarget(target);
  if (targetProblem) throw specError(raw, mountConfigError(isBind ? 'bind' : 'volume', targetProblem).message);
  const readOnly = words.includes('ro');
  const propagation = words.find((w): w is Propagation => (PROPAGATIONS as readonly string[]).includes(w));
  if (isBind) {
    if (words.includes('nocopy')) throw specError(raw, 'invalid mode: nocopy (only for volumes)');
    return { type: 'bind', source: posix.normalize(source), target: cleanTarget(target), readOnly, propagation: propagation ?? 'rprivate', recursive: true, createSource: true };
  }
  if (propagation) throw specError(raw, `invalid mode: ${mode} (propagation is only for bind mounts)`);
  if (source) checkVolumeName(source);
  return { type: 'volume', ...(source ? { name: source } : {}), target: cleanTarget(target), readOnly, copyData: !words.includes('nocopy') };
}

/** One `--mount` object (the API's HostConfig.Mounts entry). */
export function parseMountSpec(m: MountSpec): MountPoint {
  const type = m.Type;
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw mountConfigError(String(type), 'mount type unknown');
  if (!m.Target) throw mountConfigError(type, 'field Target must not be empty');
  const targetProblem = checkTarget(m.Target);
  if (targetProblem) throw mountConfigError(type, targetProblem);
  const target = cleanTarget(m.Target);
  const extra = (field: string) => mountConfigError(type, `field ${field} must not be specified`);
  switch (type) {
    case 'bind': {
      if (!m.Source) throw mountConfigError(type, 'field Source must not be empty');
      if (m.VolumeOptions) throw extra('VolumeOptions');
      if (m.TmpfsOptions) throw extra('TmpfsOptions');
      if (!m.Source.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
      const propagation = m.BindOptions?.Propagation;
      if (propagation !== undefined && propagation !== '' && !(PROPAGATIONS as readonly string[]).includes(propagation)) {
        throw mountConfigError(type, `invalid propagation mode: ${propagation}`);
      }
      return {
        type, source: posix.normalize(m.Source), target, readOnly: m.ReadOnly ?? false,
        propagation: (propagation || 'rprivate') as Propagation, recursive: !m.BindOptions?.NonRecursive,
        createSource: m.BindOptions?.CreateMountpoint ?? false,
      };
    }
    case 'volume': {
      if (m.BindOptions) throw extra('BindOptions');
      if (m.TmpfsOptions) throw extra('TmpfsOptions');
      const anonymous = !m.Source;
      if (m.Source) checkVolumeName(m.Source);
      if (m.VolumeOptions?.Subpath) {
        if (anonymous) throw mountConfigError(type, 'must not set Subpath when using anonymous volumes');
        // A subpath is a path inside a volume that containers write to: mounting it safely needs the kernel's help (openat2 in the helper), not yet there.
        throw mountConfigError(type, 'volume subpaths are not supported by berth');
      }
      if (m.ReadOnly && anonymous) throw mountConfigError(type, 'must not set ReadOnly mode when using anonymous volumes');
      return {
        type, ...(m.Source ? { name: m.Source } : {}), target, readOnly: m.ReadOnly ?? false, copyData: !m.VolumeOptions?.NoCopy,
        ...(m.VolumeOptions?.Labels ? { labels: m.VolumeOptions.Labels } : {}),
      };
    }
    default: {
      if (m.BindOptions) throw extra('BindOptions');
      if (m.VolumeOptions) throw extra('VolumeOptions');
      if (m.Source) throw extra('Source');
      const options: string[] = [];
      if (m.ReadOnly) options.push('ro');
      const mode = m.TmpfsOptions?.Mode;
      if (mode !== undefined && mode !== 0) {
        if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw mountConfigError(type, `invalid tmpfs mode: ${mode}`);
        options.push(`mode=${mode.toString(8)}`);
      }
      const size = m.TmpfsOptions?.SizeBytes;
      if (size !== undefined && size !== 0) {
        if (!Number.isSafeInteger(size) || size < 0) throw mountConfigError(type, `invalid tmpfs size: ${size}`);
        options.push(`size=${tmpfsSize(size)}`);
      }
      return { type: 'tmpfs', target, options };
    }
  }
}

/** Docker writes a tmpfs size with the largest unit that divides it. */
function tmpfsSize(bytes: number): string {
  for (const [suffix, unit] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

// What a tmpfs takes besides flags: its own parameters (see tmpfs(5)).
const TMPFS_FLAG_WORDS = new Set(['ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'sync', 'async', 'dirsync',
  'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'lazytime', 'nolazytime',
  'mand', 'nomand', 'nosymfollow', 'symfollow', ...PROPAGATIONS]);
const TMPFS_PARAMS: Record<string, RegExp> = {
  size: /^\d+[kmgtpe%]?$/i,
  nr_blocks: /^\d+[kmgtpe]?$/i,
  nr_inodes: /^\d+[kmgtpe]?$/i,
  mode: /^[0-7]{1,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
  huge: /^(never|always|within_size|advise)$/,
  mpol: /^(default|prefer|bind|interleave|local)(:[0-9,-]+)?$/,
};

/** One `--tmpfs` entry: its path and its options ("size=64m,mode=1777"). */
export function parseTmpfs(target: string, options: string): MountPoint {
  const targetProblem = checkTarget(target);
  if (targetProblem) throw invalid('InvalidTmpfs', `invalid tmpfs ${target}: ${targetProblem}`);
  const words = options === '' ? [] : options.split(',');
  for (const word of words) {
    const [key, value] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
    const ok = value === undefined ? TMPFS_FLAG_WORDS.has(key) : TMPFS_PARAMS[key]?.test(value) ?? false;
    if (!ok) {
      throw invalid('InvalidTmpfs', `invalid tmpfs option "${word}" for ${target} (flags such as ro, exec, noatime; or ${Object.keys(TMPFS_PARAMS).join('=, ')}=)`);
    }
  }
  return { type: 'tmpfs', target: cleanTarget(target), options: words };
}

function cleanTarget(target: string): string {
  return posix.normalize(target).replace(/\/+$/, '') || '/';
}

/**
 * Every mount point of a HostConfig, checked: Binds, then Mounts, then Tmpfs.
 * Two at one path are refused, as Docker does.
 */
export function mountPointsOf(hc: HostConfig): MountPoint[] {
  const points = [
    ...(hc.Binds ?? []).map(parseBind),
    ...(hc.Mounts ?? []).map(parseMountSpec),
    ...Object.entries(hc.Tmpfs ?? {}).map(([target, options]) => parseTmpfs(target, options)),
  ];
  const seen = new Set<string>();
  for (const p of points) {
    if (seen.has(p.target)) throw invalid('DuplicateMountPoint', `Duplicate mount point: ${p.target}`);
    seen.add(p.target);
    checkProcDestination(p);
  }
  return points;
}

/**
 * runc refuses, when the container starts, a mount onto /proc that is not a
 * procfs and one inside /proc but for lxcfs's files; Docker passes runc's
 * words on. berth says the same before anything is created.
 */
export function checkProcDestination(p: MountPoint): void {
  const problem = procMountProblem(p.target, {
    type: p.type === 'tmpfs' ? 'tmpfs' : undefined,
    isBind: p.type !== 'tmpfs',
    sourceIsProcfs: p.type === 'bind' && isProcfs(p.source),
  });
  if (!problem) return;
  const source = p.type === 'bind' ? p.source : p.type === 'volume' ? (p.name ?? 'an anonymous volume') : 'tmpfs';
  throw invalid('InvalidMount', `error mounting "${source}" to rootfs at "${p.target}": ${problem}`);
}
