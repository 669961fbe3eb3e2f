import type { Command } from 'commander';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { asDaemon } from './each.js';
import { publishedPorts } from '../../engine/index.js';

/** `port`: a running container's published ports, as Docker's CLI lists them. */
export function registerPort(parent: Command, ctx: CliContext): Command {
  return parent.command('port')
    .description('list port mappings or a specific mapping for the container')
    .argument('<container>', 'name or ID')
    .argument('[private-port]', 'PORT[/PROTO]')
    .action(async (name: string, privatePort?: string) => {
      const engine = ctx.engine();
      const info = await asDaemon(() => engine.container(name));
      const ports = info.state.Running ? publishedPorts(engine, info.id) : [];
      if (privatePort !== undefined) {
        const key = privatePort.includes('/') ? privatePort : `${privatePort}/tcp`;
        const matching = ports.filter((p) => `${p.containerPort}/${p.proto}` === key);
        if (matching.length === 0) {
          // Docker's CLI says this itself, not the daemon.
          process.stderr.write(`Error: No public port '${key}' published for ${info.name}\n`);
          throw new ExitStatus(1);
        }
        for (const p of matching) process.stdout.write(`${p.hostIp || '0.0.0.0'}:${p.hostPort}\n`);
        return;
      }
      for (const p of ports) process.stdout.write(`${p.containerPort}/${p.proto} -> ${p.hostIp || '0.0.0.0'}:${p.hostPort}\n`);
    });
}
