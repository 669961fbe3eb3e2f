// The firewall rules of one berth bridge, in an nftables table of its own
// (`ip berth_<bridge>`), so that removing the network removes every rule at
// once and nothing of anyone else's is touched:
//
// - postrouting: masquerade what the containers send out of any other
//   device (outbound traffic); masquerade loopback-sourced packets that leave
//   through the bridge (the host's 127.0.0.1 reaching a published port,
//   which also needs route_localnet on the bridge); masquerade DNATed
//   packets from the subnet back into it (hairpin: a container reaching a
//   published port, its own too).
// - prerouting and output: packets to any of the host's own addresses are
//   DNATed through two maps of published ports, one keyed by host address,
//   protocol and port (`-p 127.0.0.1:8080:80`), one by protocol and port for
//   every address (`-p 8080:80`). A container's ports are elements of these
//   maps, added and deleted by themselves in one nft transaction.
//
// An accept in berth's table cannot override a drop in another table: a
// running dockerd sets iptables' FORWARD policy to DROP, and with
// br_netfilter that drops even traffic between two ports of berth's bridge.
// So, as netavark and CNI do, berth inserts accept rules for its bridge into
// iptables' FORWARD chain, but only when that chain exists (someone runs a
// firewall there); otherwise there is nothing to get past.
import { tool } from './host-tools.js';

export interface PublishedPort {
  proto: 'tcp' | 'udp';
  /** The host address it is published on; '' or 0.0.0.0 for all. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

export function tableName(bridge: string): string {
  return `berth_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The whole table of a bridge, replaced in one transaction. */
export function installBridgeTable(bridge: string, subnet: string): void {
  const table = tableName(bridge);
  const ruleset = `table ip ${table}
delete table ip ${table}
table ip ${table} {
  map published_at { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
  map published_any { type inet_proto . inet_service : ipv4_addr . inet_service; }
  chain published {
    dnat ip to ip daddr . meta l4proto . th dport map @published_at
    dnat ip to meta l4proto . th dport map @published_any
  }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr type local jump published; }
  chain output { type nat hook output priority -100; policy accept; fib daddr type local jump published; }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${subnet} oifname != "${bridge}" masquerade
    oifname "${bridge}" ip saddr 127.0.0.0/8 masquerade
    oifname "${bridge}" ip saddr ${subnet} ct status dnat masquerade
  }
}
`;
  tool('nft', ['-f', '-'], { input: ruleset });
}

export function removeBridgeTable(bridge: string): void {
  tool('nft', ['delete', 'table', 'ip', tableName(bridge)], { allowFailure: true });
}

function elements(ports: readonly PublishedPort[], address: string): { at: string[]; any: string[] } {
  const at: string[] = [];
  const any: string[] = [];
  for (const p of ports) {
    const value = `${address} . ${p.containerPort}`;
    if (p.hostIp && p.hostIp !== '0.0.0.0') at.push(`${p.hostIp} . ${p.proto} . ${p.hostPort} : ${value}`);
    else any.push(`${p.proto} . ${p.hostPort} : ${value}`);
  }
  return { at, any };
}

function changePorts(verb: 'add' | 'delete', bridge: string, ports: readonly PublishedPort[], address: string, allowFailure: boolean): void {
  const { at, any } = elements(ports, address);
  const table = tableName(bridge);
  // A delete names only the key.
  const key = (e: string) => (verb === 'delete' ? e.split(' : ')[0]! : e);
  const lines = [
    ...(at.length ? [`${verb} element ip ${table} published_at { ${at.map(key).join(', ')} }`] : []),
    ...(any.length ? [`${verb} element ip ${table} published_any { ${any.map(key).join(', ')} }`] : []),
  ];
  if (lines.length) tool('nft', ['-f', '-'], { input: `${lines.join('\n')}\n`, allowFailure });
}

export function publishPorts(bridge: string, ports: readonly PublishedPort[], address: string): void {
  changePorts('add', bridge, ports, address, false);
}

/** Forgiving: the table may be gone already (the network went down, or a crash). */
export function unpublishPorts(bridge: string, ports: readonly PublishedPort[], address: string): void {
  changePorts('delete', bridge, ports, address, true);
}

const FORWARD_RULES = (bridge: string) => [['-i', bridge, '-j', 'ACCEPT'], ['-o', bridge, '-j', 'ACCEPT']];

function iptablesFilterExists(): boolean {
  return tool('nft', ['list', 'chain', 'ip', 'filter', 'FORWARD'], { allowFailure: true }).status === 0;
}

/** Let the bridge's traffic past iptables' FORWARD chain, where one exists. */
export function ensureForwardAccept(bridge: string): void {
  if (!iptablesFilterExists()) return;
  for (const rule of FORWARD_RULES(bridge)) {
    if (tool('iptables', ['-w', '-C', 'FORWARD', ...rule], { allowFailure: true }).status !== 0) {
      tool('iptables', ['-w', '-I', 'FORWARD', '1', ...rule]);
    }
  }
}

export function removeForwardAccept(bridge: string): void {
  if (!iptablesFilterExists()) return;
  for (const rule of FORWARD_RULES(bridge)) {
    while (tool('iptables', ['-w', '-D', 'FORWARD', ...rule], { allowFailure: true }).status === 0) { /* every copy */ }
  }
}
