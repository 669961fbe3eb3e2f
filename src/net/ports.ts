// Published ports: the host side. The kernel does the forwarding (DNAT in
// the bridge's nft maps, see firewall.ts); what it cannot do is keep another
// program off a published port. So, as Docker's port reservation does, a
// small process of its own (native/berth-ports) binds each host port, and
// listens for TCP, for as long as the container's init lives: it watches
// that process through a pidfd and ends with it, so a port is never held
// for a container that is gone, whoever crashed. It also picks the ports of
// `-P` and of host port ranges (the first it can bind), and says which.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { conflict, systemError } from '../util/errors.js';
import { helperPath } from '../runtime/container.js';
import { processStartTime } from '../runtime/state.js';
import type { PublishedPort } from './firewall.js';

export interface PortRequest {
  proto: 'tcp' | 'udp';
  hostIp: string;
  /** The host ports that will do; 0-0: any the kernel picks. */
  first: number;
  last: number;
  containerPort: number;
}

function holderPath(): string {
  return join(dirname(helperPath()), 'berth-ports');
}

/**
 * Bind the requested host ports for as long as process `pid` lives. Returns
 * the ports as bound and the holder as "pid:starttime"; a port that cannot
 * be had is Docker's "port is already allocated", and nothing stays held.
 */
export function holdPorts(pid: number, requests: readonly PortRequest[], endpointName: string): Promise<{ ports: PublishedPort[]; holder: string | null }> {
  if (requests.length === 0) return Promise.resolve({ ports: [], holder: null });
  const args = [String(pid), ...requests.map((r) => `${r.proto}:${r.hostIp || '0.0.0.0'}:${r.first}-${r.last}`)];
  return new Promise((resolve, reject) => {
    const child = spawn(holderPath(), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.once('error', (e) => reject(systemError('PortHolderMissing', `cannot start ${holderPath()}: ${e.message} (run setup: it builds native/)`, e)));
    child.stdout.once('close', () => {
      const lines = out.trim().split('\n');
      if (lines.at(-1) === 'ok' && child.pid !== undefined) {
        const ports = lines.slice(0, -1).map((line, i) => {
          const [, hostIp, port] = line.split(':');
          return { proto: requests[i]!.proto, hostIp: hostIp!, hostPort: Number(port), containerPort: requests[i]!.containerPort };
        });
        child.unref();
        child.stderr.destroy();
        resolve({ ports, holder: `${child.pid}:${processStartTime(child.pid) ?? ''}` });
        return;
      }
      void exited.then(() => {
        const failed = /^(tcp|udp) ([\d.]+):(\d+)(?:-\d+)?: (.*)$/m.exec(err);
        if (failed) {
          const [, proto, address, port, why] = failed;
          reject(conflict('PortAllocated', `driver failed programming external connectivity on endpoint ${endpointName}: Bind for ${address}:${port} failed: port is already allocated (${proto}: ${why})`));
        } else {
          reject(systemError('PortHolderFailed', `${holderPath()} ${args.join(' ')}: ${err.trim() || 'failed'}`));
        }
      });
    });
  });
}

/** End a holder, if it is still the process that was started ("pid:starttime"). */
export function releasePorts(holder: string | null): void {
  if (!holder) return;
  const [pid, start] = holder.split(':');
  if (processStartTime(Number(pid)) !== start) return;
  try {
    process.kill(Number(pid), 'SIGKILL');
  } catch { /* gone meanwhile */ }
  // The ports are free only once the kernel has torn the process down: wait for that (a zombie holds none).
  const until = Date.now() + 2000;
  while (processStartTime(Number(pid)) === start && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}
