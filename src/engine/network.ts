// A container's network, as Docker's `--network` modes give it:
//
// - bridge (the default): its own network namespace with `lo` and an `eth0`
//   on berth's bridge (src/net/bridge.ts), an address from the store, a
//   default route through the bridge, and /etc/hosts naming it by that
//   address;
// - none: its own network namespace with only `lo`;
// - host: the host's network namespace, the host's hostname, /etc/hosts
//   and /etc/resolv.conf.
//
// The namespace is made by the runtime with the container's others; the
// endpoint is joined before the runtime creates the container (so the hosts
// file is right when it is bind-mounted) and plumbed into the namespace
// after, while the container's process still waits at its start FIFO, so
// the network is there before user code runs. It is released with the rest
// of the container's run (containers.ts releaseRuntime), by whoever settles
// its exit, and any endpoint whose container no longer runs is released by
// the next join.
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { invalid, notFound } from '../util/errors.js';
import type { Spec } from '../runtime/spec.js';
import { endpointFor, joinBridge, leaveNetwork, loopbackUp, plumbEndpoint, recordPorts, type Endpoint } from '../net/bridge.js';
import { holdPorts, type PortRequest } from '../net/ports.js';
import type { PublishedPort } from '../net/firewall.js';
import type { Engine } from './engine.js';
import type { CreateBody, HostConfig } from './host-config.js';
import { containerPaths } from './container-info.js';
import { rowById } from './containers.js';

export type NetworkMode = 'bridge' | 'none' | 'host';

/** HostConfig.NetworkMode as berth runs it; Docker's "default" is the bridge. */
export function networkMode(hc: HostConfig): NetworkMode {
  const mode = hc.NetworkMode ?? '';
  if (mode === '' || mode === 'default' || mode === 'bridge') return 'bridge';
  if (mode === 'none' || mode === 'host') return mode;
  throw notFound('NetworkNotFound', `network ${mode} not found`);
}

/** The hostname a container gets when none is given: Docker's short ID, or the host's own on the host's network. */
export function defaultHostname(id: string, hc: HostConfig): string {
  return networkMode(hc) === 'host' ? hostHostname() : id.slice(0, 12);
}

const HOSTS_BASE = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** /etc/hosts as Docker writes it: the loopback names, then the container's address and hostname. */
export function hostsFile(hostname: string, address?: string): string {
  return `${HOSTS_BASE}${address ? `${address}\t${hostname}\n` : ''}`;
}

/**
 * /etc/resolv.conf as Docker writes it from the host's: nameservers on the
 * host's loopback cannot be reached from the container's own namespace, so
 * they are dropped, and Google's public servers stand in when none is left.
 */
export function containerResolvConf(host: string): string {
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b|0\.0\.0\.0)/.test(l));
  const kept = lines.join('\n').trim();
  const hasServer = lines.some((l) => /^\s*nameserver\s/.test(l));
  return `${kept ? `${kept}\n` : ''}${hasServer ? '' : '\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n'}`.replace(/^\n/, '');
}

function readHostFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * At create: the spec's network namespace for the mode, and the container's
 * hostname, hosts and resolv.conf files, bind-mounted over the image's.
 */
export function applyNetworkMode(spec: Spec, hc: HostConfig, dir: string, id: string, hostname: string): void {
  const mode = networkMode(hc);
  const paths = containerPaths(dir, id);
  if (mode === 'host') spec.linux!.namespaces = (spec.linux!.namespaces ?? []).filter((ns) => ns.type !== 'network');
  writeFileSync(paths.hostname, `${hostname}\n`);
  writeFileSync(paths.hosts, mode === 'host' ? readHostFile('/etc/hosts') : hostsFile(hostname));
  const resolv = readHostFile('/etc/resolv.conf');
  writeFileSync(paths.resolvConf, mode === 'host' ? resolv : containerResolvConf(resolv));
  for (const [file, source] of [['hostname', paths.hostname], ['hosts', paths.hosts], ['resolv.conf', paths.resolvConf]] as const) {
    spec.mounts!.push({ destination: `/etc/${file}`, type: 'bind', source, options: ['rbind', 'rprivate'] });
  }
}

/** An endpoint whose container is not running or being started is a leftover. */
function containerGone(engine: Engine, id: string): boolean {
  const row = rowById(engine, id);
  return !row || !['starting', 'running', 'restarting'].includes(row.status);
}

/** Before the runtime creates the container: its endpoint, and the hosts file naming its address. */
export function joinNetwork(engine: Engine, id: string, body: CreateBody): Endpoint | undefined {
  const hc = body.HostConfig ?? {};
  if (networkMode(hc) !== 'bridge') return undefined;
  const ep = joinBridge(engine.db, id, [], (other) => containerGone(engine, other));
  const paths = containerPaths(engine.containerDir(id), id);
  const hostname = readHostFile(paths.hostname).trim() || id.slice(0, 12);
  writeFileSync(paths.hosts, hostsFile(hostname, ep.address));
  return ep;
}

/**
 * After the runtime created it, before it starts: its host ports held, the
 * endpoint into its namespace and its ports into the bridge's maps (or, for
 * none, its loopback up, as Docker's).
 */
export async function plumbNetwork(engine: Engine, id: string, body: CreateBody, ep: Endpoint | undefined, pid: number): Promise<void> {
  if (!ep) {
    if (networkMode(body.HostConfig ?? {}) === 'none') loopbackUp(pid);
    return;
  }
  const name = rowById(engine, id)?.name ?? id;
  const { ports, holder } = await holdPorts(pid, portRequests(body, imageExposedPorts(engine, id)), name);
  recordPorts(engine.db, id, ports, holder);
  plumbEndpoint({ ...ep, ports, holder }, pid);
}

function imageExposedPorts(engine: Engine, id: string): string[] {
  try {
    const row = rowById(engine, id);
    const config = row ? engine.imageRunConfig(engine.image(row.image_id)) as { ExposedPorts?: Record<string, unknown> | null } : {};
    return Object.keys(config.ExposedPorts ?? {});
  } catch {
    return [];
  }
}

/** "80/tcp" → port and protocol. */
function portKey(key: string): { port: number; proto: 'tcp' | 'udp' } {
  const [port, proto = 'tcp'] = key.split('/');
  if (!/^\d+$/.test(port!) || Number(port) < 1 || Number(port) > 65535) throw invalid('InvalidPort', `invalid containerPort: ${port}`);
  if (proto !== 'tcp' && proto !== 'udp') throw invalid('InvalidProto', `invalid proto: ${proto}`);
  return { port: Number(port), proto };
}

/** HostPort "" (any), "8080", or "8000-8010" (the first free of them). */
function hostPortRange(text: string): { first: number; last: number } {
  if (text === '' || text === '0') return { first: 0, last: 0 };
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const first = Number(m?.[1]);
  const last = Number(m?.[2] ?? m?.[1]);
  if (!m || first < 1 || last > 65535 || first > last) throw invalid('InvalidPort', `invalid hostPort: ${text}`);
  return { first, last };
}

/** What to publish: each binding of PortBindings, and with PublishAllPorts every other exposed port on any free port. */
export function portRequests(body: CreateBody, imageExposed: readonly string[] = []): PortRequest[] {
  const hc = body.HostConfig ?? {};
  const requests: PortRequest[] = [];
  for (const [key, bindings] of Object.entries(hc.PortBindings ?? {})) {
    const { port, proto } = portKey(key);
    for (const binding of bindings ?? []) {
      if (binding.HostIp && !/^\d+\.\d+\.\d+\.\d+$/.test(binding.HostIp)) throw invalid('InvalidAddress', `invalid IP address: ${binding.HostIp} (berth publishes on IPv4 addresses only)`);
      requests.push({ proto, hostIp: binding.HostIp, ...hostPortRange(binding.HostPort ?? ''), containerPort: port });
    }
  }
  if (hc.PublishAllPorts) {
    const bound = new Set(Object.keys(hc.PortBindings ?? {}).map((k) => (k.includes('/') ? k : `${k}/tcp`)));
    for (const key of new Set([...imageExposed, ...Object.keys(body.ExposedPorts ?? {})].map((k) => (k.includes('/') ? k : `${k}/tcp`)))) {
      if (bound.has(key)) continue;
      const { port, proto } = portKey(key);
      requests.push({ proto, hostIp: '', first: 0, last: 0, containerPort: port });
    }
  }
  return requests;
}

/** At create: Docker's refusals and warnings for the network flags. */
export function validateNetworkConfig(body: CreateBody, warn: (m: string) => void): void {
  const hc = body.HostConfig ?? {};
  const mode = networkMode(hc);
  const publishes = Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts;
  if (mode === 'none' && publishes) throw invalid('ConflictingOptions', 'conflicting options: port publishing and the container type network mode');
  if (mode === 'host' && publishes) warn('Published ports are discarded when using host network mode');
  portRequests(body);
}

/** With the rest of a run: the container's endpoint released. */
export function releaseNetwork(engine: Engine, id: string): void {
  leaveNetwork(engine.db, id);
}

export function containerEndpoint(engine: Engine, id: string): Endpoint | undefined {
  return endpointFor(engine.db, id);
}

/** Docker's NetworkSettings of a container: its endpoint while it runs, the mode's network either way. */
export function networkSettings(engine: Engine, id: string, body: CreateBody, running: boolean): Record<string, unknown> {
  const hc = body.HostConfig ?? {};
  let mode: NetworkMode;
  try {
    mode = networkMode(hc);
  } catch {
    mode = 'none';
  }
  const ep = running ? containerEndpoint(engine, id) : undefined;
  const address = {
    Gateway: ep?.gateway ?? '', IPAddress: ep?.address ?? '', IPPrefixLen: ep?.prefix ?? 0, IPv6Gateway: '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: ep?.mac ?? '',
  };
  const endpointId = ep ? `${ep.networkId.slice(0, 32)}${id.slice(0, 32)}` : '';
  return {
    Bridge: '', SandboxID: running ? id : '', SandboxKey: '', HairpinMode: false,
    LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    Ports: running ? portMap(body, ep) : {},
    EndpointID: endpointId,
    ...address,
    Networks: {
      [mode]: {
        IPAMConfig: null, Links: null, Aliases: null, DriverOpts: null, DNSNames: null,
        NetworkID: ep?.networkId ?? '', EndpointID: endpointId, ...address,
      },
    },
  };
}

/** Docker's Ports: each exposed or published container port, with where it is published (null: nowhere). */
export function portMap(body: CreateBody, ep: Endpoint | undefined): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of Object.keys(body.ExposedPorts ?? {})) ports[key] = null;
  for (const p of ep?.ports ?? []) {
    const key = `${p.containerPort}/${p.proto}`;
    (ports[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  return ports;
}

/** A running container's published ports, as bound, in Docker's order (by container port). */
export function publishedPorts(engine: Engine, id: string): PublishedPort[] {
  return [...(containerEndpoint(engine, id)?.ports ?? [])].sort((a, b) => a.containerPort - b.containerPort || a.proto.localeCompare(b.proto));
}

/** `ps`'s PORTS: "127.0.0.1:8080->80/tcp, 0.0.0.0:49153->81/tcp". */
export function portsText(ports: readonly PublishedPort[]): string {
  return ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ');
}

/** `ps`'s NETWORKS: the network the mode names. */
export function networkNameOf(body: CreateBody): string {
  try {
    return networkMode(body.HostConfig ?? {});
  } catch {
    return body.HostConfig?.NetworkMode ?? '';
  }
}
