// What `create` and `run` share: every flag group, and turning the command
// line into a create body and a new container (pulling the image first when
// the --pull policy says so).
import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { parsePlatform, type CreateBody } from '../../engine/index.js';
import { progressView } from '../image/progress.js';
import type { CliContext } from '../context.js';
import { processFlags } from './flags-process.js';
import { hostFlags } from './flags-host.js';
import { networkFlags } from './flags-network.js';
import { storageFlags } from './flags-storage.js';
import { healthFlags } from './flags-health.js';
import type { ParsedFlags } from './flags.js';
import { warn } from '../say.js';

const GROUPS = [processFlags, hostFlags, networkFlags, storageFlags, healthFlags];

export function addCreateFlags(cmd: Command): Command {
  let c = cmd
    .argument('<image>', 'image name or ID (pulled when missing)')
    .argument('[command...]', 'command and arguments (default: the image\'s Entrypoint and Cmd)')
    .helpOption('--help', 'display help for command')
    .option('--name <name>', 'container name')
    .option('--platform <os/arch>', 'platform of the image to pull')
    .option('--pull <policy>', 'missing, always or never', 'missing')
    .option('-q, --quiet', 'say nothing while pulling')
    .passThroughOptions();
  for (const group of GROUPS) c = group.add(c);
  return c;
}

export interface CreateFlags { name?: string; platform?: string; pull: string; quiet?: boolean; tty?: boolean; interactive?: boolean }

/**
 * `attached`: the container will be started attached (`run` without -d,
 * `create` for `start -a`): Docker sets the Attach* flags, and with -i
 * StdinOnce. `startNow`: `run`, which starts it at once (the rootfs stays
 * mounted for that).
 */
export async function createFromCli(ctx: CliContext, image: string, command: string[], opts: CreateFlags & ParsedFlags, how: { attached: boolean; startNow: boolean }): Promise<{ id: string; name: string; body: CreateBody }> {
  const attached = how.attached;
  if (!['missing', 'always', 'never'].includes(opts.pull)) throw invalid('InvalidFlag', `--pull: "${opts.pull}" is not one of missing, always, never`);
  const body: CreateBody = { Image: image };
  if (command.length) body.Cmd = command;
  for (const group of GROUPS) group.apply(opts, body);
  if (attached) {
    body.AttachStdout = true;
    body.AttachStderr = true;
    if (body.OpenStdin) {
      body.AttachStdin = true;
      // The container's stdin ends with this command's.
      body.StdinOnce = true;
    }
  }
  const engine = ctx.engine();
  const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
  const view = progressView(process.stderr, opts.quiet ?? false);
  const say = (text: string) => { if (!opts.quiet) process.stderr.write(text); };
  if (opts.pull === 'always') {
    await engine.pull(image, { ...(platform ? { platform } : {}), onProgress: (p) => view.update(p) });
    view.stop();
  }
  const created = await engine.createContainer(body, {
    keepMounted: how.startNow,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(platform ? { platform } : {}),
    warn,
    ...(opts.pull === 'never' ? {} : {
      onPull: {
        start: (ref: string) => say(`Unable to find image '${ref}' locally\n`),
        options: {
          onStart: (ref: { tag?: string; digest?: string; repository: string }) => say(`${ref.tag ?? ref.digest}: Pulling from ${ref.repository}\n`),
          onProgress: (p: Parameters<typeof view.update>[0]) => view.update(p),
        },
        done: (r: { digest: string }) => {
          view.stop();
          say(`Digest: ${r.digest}\nStatus: Downloaded newer image for ${image}\n`);
        },
      },
    }),
  });
  return { ...created, body };
}
