// Flags of `run` and `create` for what runs and how: the command's
// environment, user, directory, entrypoint, terminal and stdin, labels, the
// stop signal and timeout, the restart policy and --rm.
import { readFileSync } from 'node:fs';
import { invalid } from '../../util/errors.js';
import { signalNumber, type RestartPolicy } from '../../engine/index.js';
import { collect } from '../context.js';
import { hostConfigOf, type FlagGroup } from './flags.js';

export interface ProcessFlags {
  env: string[]; envFile: string[]; workdir?: string; user?: string; entrypoint?: string; hostname?: string; domainname?: string;
  interactive?: boolean; tty?: boolean; label: string[]; labelFile: string[]; stopSignal?: string; stopTimeout?: string;
  restart?: string; rm?: boolean;
}

export const processFlags: FlagGroup = {
  add: (cmd) => cmd
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a terminal')
    .option('-e, --env <K=V>', 'set an environment variable (K alone: take the host\'s value)', collect, [] as string[])
    .option('--env-file <file>', 'read environment variables from a file', collect, [] as string[])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user name or uid, and group')
    .option('--entrypoint <cmd>', 'override the image\'s entrypoint ("" clears it)')
    .option('-h, --hostname <name>', 'container hostname')
    .option('--domainname <name>', 'container NIS domain name')
    .option('-l, --label <K=V>', 'set a label', collect, [] as string[])
    .option('--label-file <file>', 'read labels from a file', collect, [] as string[])
    .option('--stop-signal <signal>', 'signal that stops the container (default SIGTERM)')
    .option('--stop-timeout <seconds>', 'seconds to wait for the stop signal before SIGKILL (default 10)')
    .option('--restart <policy>', 'no, on-failure[:max-retries], always or unless-stopped', 'no')
    .option('--rm', 'remove the container when it exits'),
  apply: (raw, body) => {
    const o = raw as unknown as ProcessFlags;
    const env = [...readLines(o.envFile, 'EnvFileNotFound'), ...o.env];
    if (env.length) body.Env = env;
    if (o.workdir !== undefined) body.WorkingDir = o.workdir;
    if (o.user !== undefined) body.User = o.user;
    if (o.entrypoint !== undefined) body.Entrypoint = [o.entrypoint];
    if (o.hostname !== undefined) {
      if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(o.hostname)) throw invalid('InvalidHostname', `invalid hostname format: ${o.hostname}`);
      body.Hostname = o.hostname;
    }
    if (o.domainname !== undefined) body.Domainname = o.domainname;
    body.Tty = o.tty ?? false;
    body.OpenStdin = o.interactive ?? false;
    const labels = [...readLines(o.labelFile, 'LabelFileNotFound'), ...o.label];
    if (labels.length) body.Labels = Object.fromEntries(labels.map((l) => { const i = l.indexOf('='); return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)]; }));
    if (o.stopSignal !== undefined) {
      signalNumber(o.stopSignal);
      body.StopSignal = o.stopSignal;
    }
    if (o.stopTimeout !== undefined) {
      if (!/^-?\d+$/.test(o.stopTimeout)) throw invalid('InvalidFlag', `invalid argument "${o.stopTimeout}" for "--stop-timeout" flag: strconv.ParseInt: parsing "${o.stopTimeout}": invalid syntax`);
      body.StopTimeout = Number(o.stopTimeout);
    }
    const hc = hostConfigOf(body);
    hc.RestartPolicy = parseRestartPolicy(o.restart ?? 'no');
    if (o.rm) {
      if (hc.RestartPolicy.Name !== 'no') throw invalid('ConflictingOptions', 'Conflicting options: --restart and --rm');
      hc.AutoRemove = true;
    }
  },
};

/** Docker's --restart: no | always | unless-stopped | on-failure[:max-retries]. */
export function parseRestartPolicy(text: string): RestartPolicy {
  const [name, count, ...rest] = text.split(':');
  const bad = () => invalid('InvalidRestartPolicy', `invalid restart policy: unknown policy '${text}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  if (rest.length) throw bad();
  switch (name) {
    case 'no': case 'always': case 'unless-stopped':
      if (count !== undefined) throw invalid('InvalidRestartPolicy', `invalid restart policy: maximum retry count can only be used with 'on-failure'`);
      return { Name: name };
    case 'on-failure':
      if (count !== undefined && !/^\d+$/.test(count)) throw invalid('InvalidRestartPolicy', `invalid restart policy: maximum retry count must be a positive integer: ${count}`);
      return { Name: 'on-failure', MaximumRetryCount: count === undefined ? 0 : Number(count) };
    default:
      throw bad();
  }
}

/** Docker's --env-file / --label-file: KEY=VALUE lines, # comments, blank lines skipped. */
function readLines(files: string[], code: string): string[] {
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw invalid(code, `open ${file}: no such file or directory`);
    }
    for (const line of text.split(/\r?\n/)) {
      const trimmed = line.trimStart();
      if (!trimmed || trimmed.startsWith('#')) continue;
      out.push(trimmed);
    }
  }
  return out;
}
