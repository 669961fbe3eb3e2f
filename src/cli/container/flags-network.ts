// Flags of `run` and `create` for the container's network: `--network`
// (`--net`), `-p`/`--publish`, `-P`/`--publish-all` and `--expose`. Only the
// syntax is read here, as Docker's CLI reads it (go-connections' nat
// ParsePortSpec); whether the network exists and the ports can be had is
// the engine's judgement.
import { invalid } from '../../util/errors.js';
import { collect } from '../context.js';
import { hostConfigOf, type FlagGroup } from './flags.js';
import type { PortBinding } from '../../engine/index.js';

interface NetworkFlags { network?: string; net?: string; publish?: string[]; publishAll?: boolean; expose?: string[] }

function portRange(text: string, what: 'containerPort' | 'hostPort'): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const first = Number(m?.[1]);
  const last = Number(m?.[2] ?? m?.[1]);
  if (!m || first < (what === 'hostPort' ? 0 : 1) || last > 65535 || first > last) throw invalid('InvalidPort', `invalid ${what}: ${text}`);
  return [first, last];
}

function proto(text: string): 'tcp' | 'udp' {
  const p = text.toLowerCase();
  if (p !== 'tcp' && p !== 'udp') throw invalid('InvalidProto', `invalid proto: ${text}`);
  return p;
}

/** `-p [IP:][HOSTPORT[-RANGE]:]CPORT[-RANGE][/PROTO]` → container port key → bindings. */
export function parsePublish(spec: string): [string, PortBinding][] {
  const slash = spec.lastIndexOf('/');
  const [rest, protocol] = slash >= 0 ? [spec.slice(0, slash), proto(spec.slice(slash + 1))] : [spec, 'tcp' as const];
  if (rest.startsWith('[')) throw invalid('InvalidAddress', `invalid IP address in ${spec}: berth publishes on IPv4 addresses only`);
  const parts = rest.split(':');
  if (parts.length > 3) throw invalid('InvalidPort', `invalid port format: ${spec}`);
  const [hostIp, hostPort, containerPort] = parts.length === 3 ? parts : parts.length === 2 ? ['', parts[0]!, parts[1]!] : ['', '', parts[0]!];
  if (hostIp && !/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp)) throw invalid('InvalidAddress', `invalid IP address: ${hostIp}`);
  const [cFirst, cLast] = portRange(containerPort!, 'containerPort');
  const host = hostPort ? portRange(hostPort, 'hostPort') : undefined;
  const count = cLast - cFirst + 1;
  if (host && count > 1 && host[1] - host[0] + 1 !== count) throw invalid('InvalidPort', `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  const out: [string, PortBinding][] = [];
  for (let i = 0; i < count; i++) {
    // One container port on a host range takes the first free port of it.
    const hostText = !host ? '' : count > 1 ? String(host[0] + i) : host[0] === host[1] ? String(host[0]) : `${host[0]}-${host[1]}`;
    out.push([`${cFirst + i}/${protocol}`, { HostIp: hostIp ?? '', HostPort: hostText }]);
  }
  return out;
}

/** `--expose PORT[-RANGE][/PROTO]` → container port keys. */
export function parseExpose(spec: string): string[] {
  const [ports, protocol = 'tcp'] = spec.split('/');
  const [first, last] = portRange(ports!, 'containerPort');
  const p = proto(protocol);
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${p}`);
}

export const networkFlags: FlagGroup = {
  add: (cmd) => cmd
    .option('--network <network>', 'connect the container to a network: bridge (default), none, host')
    .option('--net <network>', 'the same as --network')
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', 'publish a container\'s port on the host', collect, [] as string[])
    .option('-P, --publish-all', 'publish every exposed port on a free host port')
    .option('--expose <port[-range][/proto]>', 'expose a port or a range of ports', collect, [] as string[]),

  apply: (opts, body) => {
    const o = opts as NetworkFlags;
    const hc = hostConfigOf(body);
    const network = o.network ?? o.net;
    if (network !== undefined) hc.NetworkMode = network;
    const exposed = new Set(Object.keys(body.ExposedPorts ?? {}));
    for (const spec of o.expose ?? []) for (const key of parseExpose(spec)) exposed.add(key);
    for (const spec of o.publish ?? []) {
      for (const [key, binding] of parsePublish(spec)) {
        exposed.add(key);
        ((hc.PortBindings ??= {})[key] ??= []).push(binding);
      }
    }
    if (o.publishAll) hc.PublishAllPorts = true;
    if (exposed.size) body.ExposedPorts = Object.fromEntries([...exposed].map((k) => [k, {}]));
  },
};
