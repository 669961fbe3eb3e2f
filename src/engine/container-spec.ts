// From an image's config and the user's flags to an OCI runtime spec, merged
// exactly as Docker merges them: what runs (Entrypoint + Cmd), as whom, where,
// with which environment. The result starts from the runtime's Docker defaults.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, invalid } from '../util/errors.js';
import { defaultSpec, DOCKER_DEFAULT_CAPABILITIES, DEFAULT_PATH_ENV } from '../runtime/defaults.js';
import { dockerDefaultSeccomp } from '../runtime/seccomp/docker-default.js';
import type { Spec } from '../runtime/spec.js';
import { currentHardLimits } from '../runtime/rlimits.js';

/** The parts of an image config (OCI `config` object) that decide how a container runs. */
export interface ImageRunConfig {
  User?: string;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
}

export interface RunFlags {
  /** CMD… after the image name; undefined when none were given. */
  command?: string[];
  /** --entrypoint: '' clears the image's entrypoint. */
  entrypoint?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
  hostname?: string;
}

export interface MergedProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
}

/** Docker's rules: --entrypoint resets the image's Cmd; CMD args replace Cmd. */
export function mergeProcess(image: ImageRunConfig, flags: RunFlags, hostEnv: NodeJS.ProcessEnv = process.env): MergedProcess {
  let entrypoint = image.Entrypoint ?? [];
  let cmd = image.Cmd ?? [];
  if (flags.entrypoint !== undefined) {
    entrypoint = flags.entrypoint === '' ? [] : [flags.entrypoint];
    cmd = [];
  }
  if (flags.command && flags.command.length > 0) cmd = flags.command;
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw invalid('NoCommand', 'no command specified: the image has no Entrypoint or Cmd, and none was given');

  const env = new Map<string, string>();
  for (const e of image.Env ?? []) setEnv(env, e);
  if (!env.has('PATH')) setEnv(env, DEFAULT_PATH_ENV);
  for (const e of flags.env ?? []) {
    if (e.includes('=')) {
      setEnv(env, e);
    } else if (hostEnv[e] !== undefined) {
      // `-e NAME` passes the host's value, and nothing when the host has none.
      env.set(e, hostEnv[e]!);
    }
  }
  if (flags.hostname && !env.has('HOSTNAME')) env.set('HOSTNAME', flags.hostname);
  if (flags.tty && !env.has('TERM')) env.set('TERM', 'xterm');

  return {
    args,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cwd: flags.workdir || image.WorkingDir || '/',
    user: flags.user ?? image.User ?? '',
  };
}

function setEnv(env: Map<string, string>, entry: string): void {
  const eq = entry.indexOf('=');
  const key = eq < 0 ? entry : entry.slice(0, eq);
  if (!key) throw invalid('InvalidEnv', `invalid environment variable "${entry}"`);
  env.delete(key); // a later value replaces an earlier one, and keeps its new position
  env.set(key, eq < 0 ? '' : entry.slice(eq + 1));
}

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

function readLines(rootfs: string, path: string): string[] {
  try {
    return readFileSync(join(rootfs, path), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  } catch {
    return [];
  }
}

function passwd(rootfs: string): PasswdEntry[] {
  return readLines(rootfs, 'etc/passwd').map((l) => l.split(':')).filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
}

function groups(rootfs: string): GroupEntry[] {
  return readLines(rootfs, 'etc/group').map((l) => l.split(':')).filter((f) => f.length >= 3)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

/**
 * Resolve `user[:group]` (names or numbers) against the container's own
 * /etc/passwd and /etc/group, as Docker does: a name must exist there, a
 * number need not; supplementary groups come from /etc/group membership.
 */
export function resolveUser(rootfs: string, user: string): { uid: number; gid: number; additionalGids: number[] } {
  const [userPart = '', groupPart] = user.split(':', 2);
  const users = passwd(rootfs);
  let uid = 0;
  let gid = 0;
  let name: string | undefined = 'root';
  if (userPart !== '') {
    if (/^\d+$/.test(userPart)) {
      uid = Number(userPart);
      const entry = users.find((u) => u.uid === uid);
      name = entry?.name;
      gid = entry?.gid ?? 0;
    } else {
      const entry = users.find((u) => u.name === userPart);
      if (!entry) throw new BerthError('invalid', 'UnknownUser', `unable to find user ${userPart}: no matching entries in passwd file`);
      uid = entry.uid;
      gid = entry.gid;
      name = entry.name;
    }
  }
  const allGroups = groups(rootfs);
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) {
      gid = Number(groupPart);
    } else {
      const entry = allGroups.find((g) => g.name === groupPart);
      if (!entry) throw new BerthError('invalid', 'UnknownGroup', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = entry.gid;
    }
  }
  const additionalGids = name === undefined ? [] : allGroups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, additionalGids };
}

export interface ContainerSpecOptions {
  rootfs: string;
  hostname: string;
  process: MergedProcess;
  tty: boolean;
  labels?: Record<string, string>;
}

/** The OCI spec for a container of an image: Docker's defaults plus the merged process. */
export function containerSpec(opts: ContainerSpecOptions): Spec {
  const spec = defaultSpec({
    args: opts.process.args,
    terminal: opts.tty,
    rootfs: opts.rootfs,
    hostname: opts.hostname,
    seccomp: dockerDefaultSeccomp(DOCKER_DEFAULT_CAPABILITIES),
  });
  const user = resolveUser(opts.rootfs, opts.process.user);
  spec.process!.user = { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) };
  spec.process!.env = opts.process.env;
  spec.process!.cwd = opts.process.cwd.startsWith('/') ? opts.process.cwd : `/${opts.process.cwd}`;
  // Docker's containers get a generous open-files limit; as an engine default
  // (not the user's request) it quietly stays within what this host allows.
  const nofile = Number(currentHardLimits().get('RLIMIT_NOFILE') ?? 1048576n);
  const limit = Math.min(1048576, nofile);
  spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: limit, hard: limit }];
  spec.annotations = { ...(opts.labels ?? {}) };
  return spec;
}
