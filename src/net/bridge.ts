// The default bridge network: a Linux bridge on the host (berth0, or the
// next free berthN when another berth root has that one), a subnet chosen as
// Docker chooses it, and per container an endpoint: an address from the
// store, a veth pair with one end on the bridge and the other as eth0 in the
// container's network namespace, and its published ports in the bridge's
// nftables maps.
//
// The store is the lock. An address is taken, and the bridge brought up or
// down, in one IMMEDIATE transaction of the root's SQLite store (with the
// `ip`/`nft` commands of a bring-up or tear-down inside it), so two berth
// commands cannot both take an address (the (network, address) pair is
// UNIQUE as well) and one cannot tear the bridge down while another joins
// it. An endpoint's own veth, ports and holder are no one else's: they are
// handled outside the transaction, which stays short. Like netavark, berth
// brings the bridge and its rules up with the first endpoint and removes them
// with the last, so a host without berth containers carries nothing of
// berth's: no device, no route, no rule.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../util/db.js';
import { conflict, systemError } from '../util/errors.js';
import { chooseSubnet, formatAddress, formatSubnet, macFor, parseSubnet, subnetSize, type Subnet } from './subnet.js';
import { ipBatch, linkExists, links, routeDestinations, tool, writeSysctl } from './host-tools.js';
import { releasePorts } from './ports.js';
import { ensureForwardAccept, installBridgeTable, publishPorts, removeBridgeTable, removeForwardAccept, unpublishPorts, type PublishedPort } from './firewall.js';

export const NETWORK_STEPS = [
  `CREATE TABLE networks (
     name TEXT PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     driver TEXT NOT NULL,
     bridge TEXT,
     subnet TEXT,
     gateway TEXT,
     created TEXT NOT NULL
   ) STRICT;
   CREATE TABLE endpoints (
     container_id TEXT PRIMARY KEY,
     network TEXT NOT NULL REFERENCES networks(name),
     address TEXT NOT NULL,
     mac TEXT NOT NULL,
     veth TEXT NOT NULL,
     ports TEXT NOT NULL DEFAULT '[]',
     holder TEXT,
     UNIQUE (network, address)
   ) STRICT;`,
];

export const DEFAULT_NETWORK = 'bridge';
const BRIDGE_PREFIX = 'berth';

export interface NetworkRow { name: string; id: string; driver: string; bridge: string | null; subnet: string | null; gateway: string | null; created: string }

export interface Endpoint {
  containerId: string;
  network: string;
  networkId: string;
  bridge: string;
  subnet: string;
  gateway: string;
  address: string;
  prefix: number;
  mac: string;
  veth: string;
  ports: PublishedPort[];
  /** The port holder's pid:starttime, once it runs. */
  holder: string | null;
}

interface EndpointRow { container_id: string; network: string; address: string; mac: string; veth: string; ports: string; holder: string | null }

export function networkRow(db: Database, name: string): NetworkRow | undefined {
  return db.prepare('SELECT * FROM networks WHERE name = ?').get(name) as NetworkRow | undefined;
}

function defaultNetwork(db: Database): NetworkRow {
  const existing = networkRow(db, DEFAULT_NETWORK);
  if (existing) return existing;
  db.prepare(`INSERT INTO networks (name, id, driver, created) VALUES (?, ?, 'bridge', ?)`).run(DEFAULT_NETWORK, randomBytes(32).toString('hex'), new Date().toISOString());
  return networkRow(db, DEFAULT_NETWORK)!;
}

function endpointOf(row: EndpointRow, net: NetworkRow): Endpoint {
  const subnet = parseSubnet(net.subnet!);
  return {
    containerId: row.container_id, network: net.name, networkId: net.id, bridge: net.bridge!, subnet: net.subnet!, gateway: net.gateway!,
    address: row.address, prefix: subnet.prefix, mac: row.mac, veth: row.veth, ports: JSON.parse(row.ports) as PublishedPort[], holder: row.holder,
  };
}

export function endpointFor(db: Database, containerId: string): Endpoint | undefined {
  const row = db.prepare('SELECT * FROM endpoints WHERE container_id = ?').get(containerId) as EndpointRow | undefined;
  if (!row) return undefined;
  const net = networkRow(db, row.network);
  return net?.bridge && net.subnet ? endpointOf(row, net) : undefined;
}

/**
 * Bring the bridge up (a fresh name and subnet when nobody is on it), or
 * make sure it still is, and let its traffic past a firewall that may have
 * appeared since (a dockerd started meanwhile).
 */
function bridgeUp(db: Database, net: NetworkRow, inUse: boolean): NetworkRow {
  // The common case is pure SQL: the write lock is held only for milliseconds.
  if (inUse && net.bridge && net.subnet) return net;
  const owner = bridgeOwner(db);
  let bridge = net.bridge;
  let subnet: Subnet;
  {
    const existing = links();
    // A bridge this root made and a command killed half-way never recorded: it goes first.
    for (const link of existing) if (link.ifalias === owner && link.ifname.startsWith(BRIDGE_PREFIX)) bridgeDown(link.ifname);
    const names = new Set(existing.filter((l) => l.ifalias !== owner).map((l) => l.ifname));
    bridge = addBridgeDevice(names, owner);
    const taken = routeDestinations().map(parseSubnet);
    const chosen = chooseSubnet(taken);
    if (!chosen) {
      bridgeDown(bridge);
      throw systemError('NoFreeSubnet', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    }
    subnet = chosen;
  }
  const gateway = formatAddress(subnet.base + 1);
  try {
    ipBatch([`address add ${gateway}/${subnet.prefix} dev ${bridge}`, `link set dev ${bridge} up`]);
    // The host's 127.0.0.1 reaching a published port: DNATed loopback traffic may leave through the bridge.
    writeSysctl(`net/ipv4/conf/${bridge}/route_localnet`, '1');
    // As Docker: a bridge network routes to the outside.
    writeSysctl('net/ipv4/ip_forward', '1');
    installBridgeTable(bridge, formatSubnet(subnet));
    ensureForwardAccept(bridge);
  } catch (err) {
    bridgeDown(bridge);
    throw err;
  }
  db.prepare('UPDATE networks SET bridge = ?, subnet = ?, gateway = ? WHERE name = ?').run(bridge, formatSubnet(subnet), gateway, net.name);
  return networkRow(db, net.name)!;
}

/** Whose bridge it is, written on the device itself (its alias): the store that records it. */
export function bridgeOwner(db: Database): string {
  return `berth:${createHash('sha256').update(db.name).digest('hex').slice(0, 16)}`;
}

/**
 * The bridge device, named by the first free berthN (or `wanted`), marked as
 * this store's. Another root may take a name at the same moment: the next
 * one is tried then.
 */
function addBridgeDevice(taken: Set<string>, owner: string, wanted?: string): string {
  for (let n = 0, attempt = 0; ; n++) {
    const name = wanted ?? `${BRIDGE_PREFIX}${n}`;
    if (!wanted && taken.has(name)) continue;
    const r = tool('ip', ['link', 'add', 'name', name, 'type', 'bridge'], { allowFailure: true });
    if (r.status === 0) {
      tool('ip', ['link', 'set', 'dev', name, 'alias', owner]);
      return name;
    }
    if (wanted || !/File exists/.test(r.stderr) || ++attempt > 16) throw systemError('NetworkSetupFailed', `ip link add name ${name} type bridge: ${r.stderr.trim()}`);
  }
}

function bridgeDown(bridge: string): void {
  removeForwardAccept(bridge);
  removeBridgeTable(bridge);
  tool('ip', ['link', 'delete', 'dev', bridge, 'type', 'bridge'], { allowFailure: true });
}

/**
 * A container joins the default bridge: the bridge up, and the lowest free
 * address of its subnet after the gateway recorded for the container.
 * `isGone(id)` says which recorded endpoints belong to containers that no
 * longer run (a killed command's leftovers): they are released first.
 */
export function joinBridge(db: Database, containerId: string, ports: PublishedPort[], isGone: (id: string) => boolean): Endpoint {
  for (const orphan of orphans(db, isGone, containerId)) leaveNetwork(db, orphan);
  leaveNetwork(db, containerId);
  const joined = db.transaction((): Endpoint => {
    let net = defaultNetwork(db);
    const used = db.prepare('SELECT address FROM endpoints WHERE network = ?').all(net.name) as { address: string }[];
    net = bridgeUp(db, net, used.length > 0);
    const subnet = parseSubnet(net.subnet!);
    const taken = new Set(used.map((u) => u.address));
    let address: number | undefined;
    // .0 is the network, .1 the gateway, the last the broadcast address.
    for (let n = subnet.base + 2; n < subnet.base + subnetSize(subnet) - 1; n++) {
      if (!taken.has(formatAddress(n))) { address = n; break; }
    }
    if (address === undefined) throw conflict('NoFreeAddress', `no available IPv4 addresses on network ${net.name} (${net.subnet})`);
    const veth = `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
    db.prepare('INSERT INTO endpoints (container_id, network, address, mac, veth, ports) VALUES (?, ?, ?, ?, ?, ?)')
      .run(containerId, net.name, formatAddress(address), macFor(address), veth, JSON.stringify(ports));
    return endpointFor(db, containerId)!;
  }).immediate();
  // A firewall that appeared since the bridge came up (a dockerd started meanwhile) lets it through too.
  ensureForwardAccept(joined.bridge);
  return joined;
}

/** The endpoint made real: the veth pair into the container's namespace, its address, route and published ports. */
export function plumbEndpoint(ep: Endpoint, pid: number): void {
  const netns = `/proc/${pid}/ns/net`;
  ipBatch([
    `link add name ${ep.veth} type veth peer name eth0 netns ${pid}`,
    `link set dev ${ep.veth} master ${ep.bridge}`,
    // A container reaching its own published port comes back through its own port.
    `link set dev ${ep.veth} type bridge_slave hairpin on`,
    `link set dev ${ep.veth} up`,
  ]);
  ipBatch([
    `link set dev eth0 address ${ep.mac}`,
    `address add ${ep.address}/${ep.prefix} dev eth0`,
    'link set dev lo up',
    'link set dev eth0 up',
    `route add default via ${ep.gateway} dev eth0`,
  ], netns);
  publishPorts(ep.bridge, ep.ports, ep.address);
}

/** A namespace of its own with only loopback, up. */
export function loopbackUp(pid: number): void {
  ipBatch(['link set dev lo up'], `/proc/${pid}/ns/net`);
}

/** Record the published ports as the port holder got them (ports chosen by -P or from a range). */
export function recordPorts(db: Database, containerId: string, ports: PublishedPort[], holder: string | null): void {
  db.prepare('UPDATE endpoints SET ports = ?, holder = ? WHERE container_id = ?').run(JSON.stringify(ports), holder, containerId);
}

/** The endpoint's own host side, which no other container shares: its ports, holder and veth. */
function releaseHostSide(ep: Endpoint): void {
  unpublishPorts(ep.bridge, ep.ports, ep.address);
  releasePorts(ep.holder);
  // Gone with the container's namespace as a rule; not when the namespace outlived a crash half-way.
  if (linkExists(ep.veth)) tool('ip', ['link', 'delete', 'dev', ep.veth], { allowFailure: true });
}

/** Endpoints whose containers are gone (a killed command's leftovers). */
function orphans(db: Database, isGone: (id: string) => boolean, except: string): string[] {
  return (db.prepare('SELECT container_id FROM endpoints').all() as { container_id: string }[])
    .map((r) => r.container_id).filter((id) => id !== except && isGone(id));
}

/**
 * A container leaves its network: ports, holder and veth released, then the
 * address freed in a short transaction; the bridge goes down with its last
 * endpoint, inside that transaction, so no join can come between.
 */
export function leaveNetwork(db: Database, containerId: string): Endpoint | undefined {
  const row = db.prepare('SELECT network FROM endpoints WHERE container_id = ?').get(containerId) as { network: string } | undefined;
  if (!row) return undefined;
  const ep = endpointFor(db, containerId);
  if (ep) releaseHostSide(ep);
  db.transaction(() => {
    if (db.prepare('DELETE FROM endpoints WHERE container_id = ?').run(containerId).changes !== 1) return;
    const left = db.prepare('SELECT COUNT(*) AS n FROM endpoints WHERE network = ?').get(row.network) as { n: number };
    if (left.n === 0 && ep) bridgeDown(ep.bridge);
  }).immediate();
  return ep;
}
