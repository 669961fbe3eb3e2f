import type { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, notFound } from '../../util/errors.js';
import { defaultSpec, DOCKER_DEFAULT_CAPABILITIES } from '../../runtime/defaults.js';
import { dockerDefaultSeccomp } from '../../runtime/seccomp/docker-default.js';
import type { RuntimeContext } from './index.js';

export function registerSpec(cmd: Command, _ctx: RuntimeContext): void {
  cmd.command('spec')
    .description("write a config.json with Docker's defaults (capabilities, masked paths, seccomp profile)")
    .option('-b, --bundle <dir>', 'where to write config.json', '.')
    .option('--rootfs <path>', 'root filesystem path, relative to the bundle', 'rootfs')
    .option('-t, --terminal', 'give the process a terminal')
    .argument('[args...]', 'the process to run (default: sh)')
    .action((args: string[], opts: { bundle: string; rootfs: string; terminal?: boolean }) => {
      if (!existsSync(opts.bundle)) throw notFound('BundleNotFound', `bundle directory ${opts.bundle} does not exist`);
      const path = join(opts.bundle, 'config.json');
      if (existsSync(path)) throw conflict('SpecExists', `${path} exists: remove it first`);
      const spec = defaultSpec({
        args: args.length ? args : undefined,
        terminal: opts.terminal ?? false,
        rootfs: opts.rootfs,
        seccomp: dockerDefaultSeccomp(DOCKER_DEFAULT_CAPABILITIES),
      });
      writeFileSync(path, JSON.stringify(spec, null, 2) + '\n');
    });
}
