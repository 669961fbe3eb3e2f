import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { invalid } from '../util/errors.js';
import { parsePlatform } from '../image/manifest.js';
import { ExitStatus } from './exit.js';
import type { CliContext } from './context.js';
import { collect } from './context.js';
import { progressView } from './image/progress.js';
import type { CreateBody } from '../engine/host-config.js';
import { hostFlags } from './container/flags-host.js';
import { storageFlags } from './container/flags-storage.js';
import { healthFlags } from './container/flags-health.js';

const FLAG_GROUPS = [hostFlags, storageFlags, healthFlags];

interface RunOptions {
  rm?: boolean; interactive?: boolean; tty?: boolean; env: string[]; envFile: string[]; workdir?: string; user?: string;
  entrypoint?: string; name?: string; platform?: string; hostname?: string; pull: string;
}

export function registerRun(program: Command, ctx: CliContext): Command {
  let cmd = program.command('run');
  for (const group of FLAG_GROUPS) cmd = group.add(cmd);
  return cmd
    .description('run a command in a new container from an image')
    .argument('<image>', 'image name or ID (pulled when missing)')
    .argument('[command...]', 'command and arguments (default: the image\'s Entrypoint and Cmd)')
    .helpOption('--help', 'display help for command')
    .option('--rm', 'remove the container when it exits')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a terminal')
    .option('-e, --env <K=V>', 'set an environment variable (K alone: take the host\'s value)', collect, [] as string[])
    .option('--env-file <file>', 'read environment variables from a file', collect, [] as string[])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user name or uid, and group')
    .option('--entrypoint <cmd>', 'override the image\'s entrypoint ("" clears it)')
    .option('--name <name>', 'container name')
    .option('-h, --hostname <name>', 'container hostname')
    .option('--platform <os/arch>', 'platform of the image to pull')
    .option('--pull <policy>', 'missing, always or never', 'missing')
    .passThroughOptions()
    .action(async (image: string, command: string[], opts: RunOptions) => {
      if (!['missing', 'always', 'never'].includes(opts.pull)) throw invalid('InvalidFlag', `--pull: "${opts.pull}" is not one of missing, always, never`);
      const engine = ctx.engine();
      const body: CreateBody = { Image: image };
      for (const group of FLAG_GROUPS) group.apply(opts as unknown as Record<string, unknown>, body);
      const env = [...readEnvFiles(opts.envFile), ...opts.env];
      if (opts.tty && !process.stdin.isTTY && opts.interactive) {
        throw invalid('NotATerminal', 'the input device is not a TTY');
      }
      const view = progressView(process.stderr, false);
      const onPull = opts.pull === 'never' ? undefined : {
        start: (ref: string) => process.stderr.write(`Unable to find image '${ref}' locally\n`),
        options: {
          onStart: (ref: { tag?: string; digest?: string; repository: string }) => process.stderr.write(`${ref.tag ?? ref.digest}: Pulling from ${ref.repository}\n`),
          onProgress: (p: Parameters<typeof view.update>[0]) => view.update(p),
        },
        done: (r: { digest: string; ref: { tag?: string } }) => {
          view.stop();
          process.stderr.write(`Digest: ${r.digest}\nStatus: Downloaded newer image for ${image}\n`);
        },
      };
      if (opts.pull === 'always') {
        await engine.pull(image, { ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}), onProgress: (p) => view.update(p) });
        view.stop();
      }
      const result = await engine.run({
        image,
        command: command.length ? command : undefined,
        entrypoint: opts.entrypoint,
        env,
        workdir: opts.workdir,
        user: opts.user,
        tty: opts.tty ?? false,
        interactive: opts.interactive ?? false,
        name: opts.name,
        hostname: opts.hostname,
        rm: opts.rm ?? false,
        hostConfig: body.HostConfig ?? {},
        ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}),
        ...(onPull ? { onPull } : {}),
      });
      if (result.oomKilled) process.stderr.write(`berth: container ${result.name} was killed by the OOM killer\n`);
      if (result.status !== 0) throw new ExitStatus(result.status);
    });
}

/** Docker's --env-file: KEY=VALUE lines, KEY alone takes the host's value, # comments. */
function readEnvFiles(files: string[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw invalid('EnvFileNotFound', `open ${file}: no such file or directory`);
    }
    for (const line of text.split(/\r?\n/)) {
      const trimmed = line.trimStart();
      if (!trimmed || trimmed.startsWith('#')) continue;
      out.push(trimmed);
    }
  }
  return out;
}
