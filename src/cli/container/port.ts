import type { Command } from 'commander';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { asDaemon } from './each.js';

/** `port`: berth's containers have no network of their own yet (only loopback), so no port is published. */
export function registerPort(parent: Command, ctx: CliContext): Command {
  return parent.command('port')
    .description('list a container\'s published ports (none yet: berth containers have only loopback)')
    .argument('<container>', 'name or ID')
    .argument('[private-port]', 'PORT[/PROTO]')
    .action(async (name: string, privatePort?: string) => {
      const info = await asDaemon(() => ctx.engine().container(name));
      if (privatePort !== undefined) {
        const port = privatePort.includes('/') ? privatePort : `${privatePort}/tcp`;
        // Docker's CLI says this itself, not the daemon.
        process.stderr.write(`Error: No public port '${port}' published for ${info.name}\n`);
        throw new ExitStatus(1);
      }
    });
}
