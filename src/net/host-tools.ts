// The host's own network tools, run as a user would run them: iproute2's `ip`
// (links, addresses, routes; `-batch` for several at once), `nft` for berth's
// tables and `iptables` only where another firewall's chain must be told to
// let berth's traffic through. Each failure names the command and says what
// the tool said.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemError } from '../util/errors.js';
import { debug } from '../util/debug.js';

export interface ToolResult { status: number; stdout: string; stderr: string }

/** Run a tool; a missing tool or a non-zero status is an error unless `allowFailure`. */
export function tool(command: string, args: readonly string[], opts: { input?: string; allowFailure?: boolean } = {}): ToolResult {
  const started = performance.now();
  const r = spawnSync(command, args, { input: opts.input ?? '', encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  debug('net: %s %s (%d ms)', command, args.join(' '), Math.round(performance.now() - started));
  if (r.error) {
    throw systemError('NetworkToolMissing', `cannot run ${command} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): berth's networking needs iproute2 and nftables (scripts/setup.sh installs them)`, r.error);
  }
  const result = { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  if (result.status !== 0 && !opts.allowFailure) {
    const shown = opts.input ? `${command} ${args.join(' ')} <<${opts.input.trim().split('\n').join('; ')}` : `${command} ${args.join(' ')}`;
    throw systemError('NetworkSetupFailed', `${shown}: ${result.stderr.trim() || `exit status ${result.status}`}`);
  }
  return result;
}

/** Several `ip` commands in one process (`ip -batch -`), optionally inside a network namespace. */
export function ipBatch(lines: readonly string[], netnsPath?: string): void {
  if (lines.length === 0) return;
  const input = `${lines.join('\n')}\n`;
  if (netnsPath) tool('nsenter', [`--net=${netnsPath}`, '--', 'ip', '-batch', '-'], { input });
  else tool('ip', ['-batch', '-'], { input });
}

export function linkExists(name: string): boolean {
  return tool('ip', ['link', 'show', 'dev', name], { allowFailure: true }).status === 0;
}

/** The host's network devices: name and alias (ifalias). */
export function links(): { ifname: string; ifalias?: string }[] {
  return JSON.parse(tool('ip', ['-j', 'link', 'show']).stdout || '[]') as { ifname: string; ifalias?: string }[];
}

/** The destinations of the host's IPv4 routes (every table), as CIDR text. */
export function routeDestinations(): string[] {
  const routes = JSON.parse(tool('ip', ['-4', '-j', 'route', 'show', 'table', 'all']).stdout || '[]') as { dst: string; type?: string }[];
  return routes.filter((r) => r.dst !== 'default' && (r.type ?? 'unicast') === 'unicast' && !r.dst.startsWith('127.')).map((r) => r.dst);
}

/** Set a kernel parameter (net/ipv4/ip_forward …) unless it has that value already. */
export function writeSysctl(path: string, value: string): void {
  const file = join('/proc/sys', path);
  try {
    if (readFileSync(file, 'utf8').trim() === value) return;
    writeFileSync(file, `${value}\n`);
  } catch (err) {
    throw systemError('NetworkSetupFailed', `cannot set ${file} to ${value}: ${(err as Error).message}`, err);
  }
}
