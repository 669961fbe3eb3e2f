// From an image's config and the user's flags to an OCI runtime spec, merged
// exactly as Docker merges them: what runs (Entrypoint + Cmd), as whom, where,
// with which environment. The result starts from the runtime's Docker defaults.
import { posix } from 'node:path';
import { BerthError, invalid } from '../util/errors.js';
import { defaultSpec, DOCKER_DEFAULT_CAPABILITIES, DEFAULT_PATH_ENV } from '../runtime/defaults.js';
import { dockerDefaultSeccomp } from '../runtime/seccomp/docker-default.js';
import type { Spec } from '../runtime/spec.js';
import { currentHardLimits } from '../runtime/rlimits.js';
import { mergeEnv } from '../runtime/env.js';
import { readFileInRoot } from '../runtime/executable.js';

/** The parts of an image config (OCI `config` object) that decide how a container runs. */
export interface ImageRunConfig {
  User?: string;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Volumes?: Record<string, unknown> | null;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null;
}

export interface RunFlags {
  /** CMD… after the image name; undefined when none were given. */
  command?: string[];
  /** --entrypoint: '' clears the image's entrypoint; the API's list form: [] or [""] clears it. */
  entrypoint?: string | string[];
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
export function mergeProcess(imageConfig: ImageRunConfig, flags: RunFlags, hostEnv: NodeJS.ProcessEnv = process.env): MergedProcess {
  let entrypoint = imageConfig.Entrypoint ?? [];
  let cmd = imageConfig.Cmd ?? [];
  if (flags.entrypoint !== undefined) {
    const given = typeof flags.entrypoint === 'string' ? [flags.entrypoint] : flags.entrypoint;
    entrypoint = given.length === 0 || (given.length === 1 && given[0] === '') ? [] : given;
    cmd = [];
  }
  if (flags.command && flags.command.length > 0) cmd = flags.command;
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw invalid('NoCommand', 'no command specified: the image has no Entrypoint or Cmd, and none was given');

  const image = mergeEnv(imageConfig.Env ?? []);
  const fromFlags = (flags.env ?? []).flatMap((e) => {
    if (e.includes('=')) return [e];
    // `-e NAME` passes the host's value, and nothing when the host has none.
    return hostEnv[e] !== undefined ? [`${e}=${hostEnv[e]}`] : [];
  });
  const hasPath = [...image, ...fromFlags].some((e) => e.startsWith('PATH='));
  let merged = mergeEnv(hasPath ? [] : [DEFAULT_PATH_ENV], image, fromFlags);
  if (flags.hostname && !hasEnv(merged, 'HOSTNAME')) merged = [...merged, `HOSTNAME=${flags.hostname}`];
  if (flags.tty && !hasEnv(merged, 'TERM')) merged = [...merged, 'TERM=xterm'];

  return {
    args,
    env: merged,
    cwd: workdir(flags.workdir, imageConfig.WorkingDir),
    user: flags.user ?? imageConfig.User ?? '',
  };
}

function hasEnv(env: readonly string[], key: string): boolean {
  return env.some((e) => e === key || e.startsWith(`${key}=`));
}

/** What the engine adds to a process's environment at start, as Docker's daemon does, unless the image or the user set it. */
const ENGINE_ENV_KEYS = ['PATH', 'HOSTNAME', 'TERM', 'HOME'] as const;

/**
 * The environment as Docker reports it (`Config.Env`): the process's, without
 * what the engine added at start — only what the image and the user gave.
 */
export function configuredEnv(processEnv: readonly string[], imageEnv: readonly string[], userEnv: readonly string[]): string[] {
  const added = ENGINE_ENV_KEYS.filter((key) => !hasEnv(imageEnv, key) && !hasEnv(userEnv, key));
  return processEnv.filter((e) => !added.some((key) => e.startsWith(`${key}=`)));
}

/** Docker refuses a relative -w; an image's relative WorkingDir is taken from /. */
function workdir(flag: string | undefined, image: string | undefined): string {
  if (flag) {
    if (!flag.startsWith('/')) throw invalid('InvalidWorkdir', `the working directory '${flag}' is invalid, it needs to be an absolute path`);
    return posix.normalize(flag);
  }
  return image ? posix.normalize(`/${image}`) : '/';
}


interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function readLines(rootfs: string, path: string): string[] {
  return (readFileInRoot(rootfs, path) ?? '').split('\n').filter((l) => l && !l.startsWith('#'));
}

function passwd(rootfs: string): PasswdEntry[] {
  return readLines(rootfs, '/etc/passwd').map((l) => l.split(':')).filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' }));
}

function groups(rootfs: string): GroupEntry[] {
  return readLines(rootfs, '/etc/group').map((l) => l.split(':')).filter((f) => f.length >= 3)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

/**
 * Resolve `user[:group]` (names or numbers) against the container's own
 * /etc/passwd and /etc/group, as Docker does: a name must exist there, a
 * number need not; the supplementary groups are the primary group (as
 * containerd and Docker give it since CVE-2023-25173) and the /etc/group
 * memberships; the home directory is the passwd entry's (`/root` for a root
 * without one, `/` for anyone else unknown).
 */
export function resolveUser(rootfs: string, user: string): { uid: number; gid: number; additionalGids: number[]; home: string } {
  const [userPart = '', groupPart] = user.split(':', 2);
  const users = passwd(rootfs);
  let entry: PasswdEntry | undefined;
  if (userPart === '') entry = users.find((u) => u.uid === 0);
  else if (/^\d+$/.test(userPart)) entry = users.find((u) => u.uid === Number(userPart));
  else {
    entry = users.find((u) => u.name === userPart);
    if (!entry) throw new BerthError('invalid', 'UnknownUser', `unable to find user ${userPart}: no matching entries in passwd file`);
  }
  const uid = userPart === '' ? 0 : entry?.uid ?? Number(userPart);
  let gid = entry?.gid ?? 0;
  const name = entry?.name ?? (uid === 0 ? 'root' : undefined);
  const home = entry?.home || (uid === 0 ? '/root' : '/');
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
  const memberOf = name === undefined ? [] : allGroups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, additionalGids: [...new Set([gid, ...memberOf])], home };
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
  spec.process!.user = { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
  spec.process!.env = hasEnv(opts.process.env, 'HOME') ? opts.process.env : [...opts.process.env, `HOME=${user.home}`];
  spec.process!.cwd = opts.process.cwd;
  // Docker's containers get a generous open-files limit; as an engine default
  // (not the user's request) it quietly stays within what this host allows.
  const nofile = Number(currentHardLimits().get('RLIMIT_NOFILE') ?? 1048576n);
  const limit = Math.min(1048576, nofile);
  spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: limit, hard: limit }];
  spec.annotations = { ...(opts.labels ?? {}) };
  return spec;
}
