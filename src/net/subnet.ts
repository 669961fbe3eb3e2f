// IPv4 addresses and subnets as numbers, and Docker's choice of a bridge
// subnet: the first of its default address pools (172.17.0.0/16 …
// 172.31.0.0/16, then 192.168.0.0/16 cut into /20s) that overlaps none of the
// host's routes, so a container's traffic never shadows a network the host
// already reaches.
import { invalid } from '../util/errors.js';

export interface Subnet {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseAddress(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw invalid('InvalidAddress', `invalid IPv4 address: ${text}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function parseSubnet(text: string): Subnet {
  const [address, prefixText] = text.split('/');
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw invalid('InvalidSubnet', `invalid subnet: ${text}`);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(parseAddress(address!) / size) * size, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatAddress(s.base)}/${s.prefix}`;
}

export function subnetSize(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + subnetSize(b) && b.base < a.base + subnetSize(a);
}

/** Docker's default address pools, in the order its IPAM tries them. */
export function defaultPools(): Subnet[] {
  const pools: Subnet[] = [];
  for (let second = 17; second <= 31; second++) pools.push({ base: parseAddress(`172.${second}.0.0`), prefix: 16 });
  for (let third = 0; third < 256; third += 16) pools.push({ base: parseAddress(`192.168.${third}.0`), prefix: 20 });
  return pools;
}

/** The first default pool that overlaps none of `taken` (the host's routes). */
export function chooseSubnet(taken: readonly Subnet[]): Subnet | undefined {
  return defaultPools().find((pool) => !taken.some((t) => overlaps(pool, t)));
}

/** Docker (up to 25) derived a container's MAC from its address: 02:42 and the four bytes. */
export function macFor(address: number): string {
  const bytes = [0x02, 0x42, ...[24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
