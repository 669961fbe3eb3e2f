import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { invalid } from '../../util/errors.js';
import { login, logout, DOCKER_HUB } from '../../engine/index.js';
import { sayOnStderr } from '../say.js';

export function registerLogin(parent: Command): void {
  parent.command('login')
    .description('store credentials for a registry (in the Docker client config)')
    .argument('[server]', 'registry host[:port]', DOCKER_HUB)
    .option('-u, --username <user>', 'username')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (server: string, opts: { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (!opts.username) throw invalid('MissingUsername', 'login: --username is required');
      const password = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : opts.password;
      if (!password) throw invalid('MissingPassword', 'login: give the password with --password-stdin (or -p)');
      if (opts.password) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      const result = await login(server, opts.username, password);
      for (const w of result.warnings) sayOnStderr('WARNING! ', w);
      process.stdout.write('Login Succeeded\n');
    });
  parent.command('logout')
    .description('remove stored credentials for a registry')
    .argument('[server]', 'registry host[:port]', DOCKER_HUB)
    .action((server: string) => {
      const result = logout(server);
      process.stdout.write(result.removed ? `Removing login credentials for ${result.registry}\n` : `Not logged in to ${result.registry}\n`);
    });
}
