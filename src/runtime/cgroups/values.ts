// OCI resource values, checked and converted before any file is touched. The
// OCI config speaks cgroup v1 (cpu shares, blkio weight, memory+swap); cgroup
// v2 has other scales (cpu.weight 1–10000, io.weight 1–10000, swap alone), and
// the conversions here are runc's, so that a config gives the same limits
// under berth as under runc. A value that cannot be right is refused here
// with a message naming the field; values that only the kernel can judge
// (a quota below 1 ms, cpus the parent lacks) are left to the kernel, whose
// refusal cgroupfs.ts reports with the same field name.
import { invalid } from '../../util/errors.js';
import type { LinuxDeviceCgroup } from './types.js';

export const UNLIMITED = 'unlimited' as const;
export type Limit = number | typeof UNLIMITED;

// JSON numbers beyond 2^53 have lost precision already; anything from 2^62 on
// (4 EiB, 146 years of CPU time) means "no limit" in every file berth writes.
const HUGE = 2 ** 62;

function integer(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw invalid('CGROUP_VALUE_INVALID', `${field}: expected an integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A decimal integer as the kernel parses it (never exponent notation). */
export function dec(n: number): string {
  return BigInt(n).toString();
}

/** Absent or 0: unset. -1 (or beyond 2^62): unlimited. Other negatives are refused. */
export function byteLimit(field: string, v: number | undefined): Limit | undefined {
  if (v === undefined) return undefined;
  const n = integer(field, v);
  if (n === 0) return undefined;
  if (n === -1 || n >= HUGE) return UNLIMITED;
  if (n < 0) throw invalid('CGROUP_VALUE_INVALID', `${field}: ${n} is negative; use -1 for unlimited`);
  return n;
}

/** cpu.quota: absent or 0 unset, any negative unlimited (runc writes -1 / "max"). */
export function quota(field: string, v: number | undefined): Limit | undefined {
  if (v === undefined) return undefined;
  const n = integer(field, v);
  if (n === 0) return undefined;
  return n < 0 || n >= HUGE ? UNLIMITED : n;
}

/** pids.limit: ≤ 0 unlimited. */
export function pidsLimit(field: string, v: number): Limit {
  const n = integer(field, v);
  return n <= 0 || n >= HUGE ? UNLIMITED : n;
}

/** A count or size that must lie in [min, max]; absent stays absent. */
export function ranged(field: string, v: number | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = integer(field, v);
  if (n < min || n > max) throw invalid('CGROUP_VALUE_INVALID', `${field}: ${n} is out of range ${min}–${max}`);
  return n;
}

/** As ranged(), but 0 means unset (runc treats shares: 0, period: 0, weight: 0 so). */
export function rangedOrUnset(field: string, v: number | undefined, min: number, max: number): number | undefined {
  if (v === undefined || v === 0) return undefined;
  return ranged(field, v, min, max);
}

/** A string written into a file as one line: a newline would make it a second request. */
export function oneLine(field: string, v: unknown): string {
  if (typeof v !== 'string') throw invalid('CGROUP_VALUE_INVALID', `${field}: expected a string, got ${JSON.stringify(v)}`);
  if (/[\n\0]/.test(v)) throw invalid('CGROUP_VALUE_INVALID', `${field}: ${JSON.stringify(v)} may not contain a newline`);
  return v;
}

/** cgroup v1 cpu.shares (2–262144) → cgroup v2 cpu.weight (1–10000), linearly as runc. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.trunc(((shares - 2) * 9999) / 262142);
}

/** cgroup v1 blkio.weight (10–1000) → cgroup v2 io.weight (1–10000), linearly as runc. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.trunc(((weight - 10) * 9999) / 990);
}

/**
 * OCI swap is memory+swap (v1's memsw); cgroup v2's memory.swap.max is swap
 * alone. As runc: unlimited memory with swap unset means unlimited swap too;
 * a swap limit needs a finite memory limit (the one asked for, or failing
 * that the one in force) and may not be below it.
 */
export function swapForV2(swap: Limit | undefined, memory: Limit | undefined, currentMemory: number | undefined): Limit | undefined {
  if (memory === UNLIMITED && swap === undefined) return UNLIMITED;
  if (swap === undefined || swap === UNLIMITED) return swap;
  const mem = memory ?? currentMemory;
  checkSwap(swap, mem);
  return swap - (mem as number);
}

export function checkSwap(swap: number, memory: Limit | undefined): void {
  if (memory === undefined || memory === UNLIMITED) {
    throw invalid(
      'CGROUP_VALUE_INVALID',
      'linux.resources.memory.swap: a swap limit needs a memory limit (OCI swap is memory plus swap); set linux.resources.memory.limit too',
    );
  }
  if (swap < memory) {
    throw invalid(
      'CGROUP_VALUE_INVALID',
      `linux.resources.memory.swap: ${swap} is below linux.resources.memory.limit ${memory}; OCI swap is memory plus swap, so it must be at least the memory limit`,
    );
  }
}

/** A device rule in the devices cgroup's syntax: "c 1:3 rwm", "b *:* m", "a". */
export function deviceRule(field: string, rule: LinuxDeviceCgroup): string {
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c') {
    throw invalid('CGROUP_VALUE_INVALID', `${field}.type: ${JSON.stringify(type)} is not one of "a", "b", "c"`);
  }
  const access = rule.access === undefined || rule.access === '' ? 'rwm' : rule.access;
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
    throw invalid('CGROUP_VALUE_INVALID', `${field}.access: ${JSON.stringify(access)} must be letters from "rwm", each at most once`);
  }
  // Type "a" means every device with every access; the kernel ignores the rest.
  if (type === 'a') return 'a';
  return `${type} ${deviceNumber(`${field}.major`, rule.major)}:${deviceNumber(`${field}.minor`, rule.minor)} ${access}`;
}

function deviceNumber(field: string, v: number | null | undefined): string {
  if (v === undefined || v === null || v === -1) return '*';
  const n = integer(field, v);
  if (n < 0) throw invalid('CGROUP_VALUE_INVALID', `${field}: ${n} is negative; use -1 or leave it out for any`);
  return dec(n);
}

/** "maj:min" of a block device, for blkio/io files. */
export function blockDevice(field: string, d: { major: number; minor: number }): string {
  const major = integer(`${field}.major`, d.major);
  const minor = integer(`${field}.minor`, d.minor);
  if (major < 0 || minor < 0) throw invalid('CGROUP_VALUE_INVALID', `${field}: device ${major}:${minor} is negative`);
  return `${major}:${minor}`;
}

/** Hugepage size as the kernel names its files: "2MB", "1GB", "64KB". */
export function hugepageSize(field: string, v: unknown): string {
  const s = oneLine(field, v);
  if (!/^[1-9][0-9]*[KMG]B$/.test(s)) {
    throw invalid('CGROUP_VALUE_INVALID', `${field}: ${JSON.stringify(s)} is not a page size such as "2MB" or "1GB"`);
  }
  return s;
}

// Files of cgroup v2's core that `unified` must not reach: membership, the
// tree's shape and the freezer belong to the runtime, not to limits.
const UNIFIED_FORBIDDEN = new Set([
  'cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.type', 'cgroup.freeze', 'cgroup.kill',
]);

/** Check one key of linux.resources.unified; returns the controller it belongs to ("cgroup" for core files). */
export function unifiedKey(key: string): string {
  const field = `linux.resources.unified[${JSON.stringify(key)}]`;
  if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(key)) {
    throw invalid('CGROUP_VALUE_INVALID', `${field}: not a cgroup file name such as "memory.high"`);
  }
  if (UNIFIED_FORBIDDEN.has(key)) {
    throw invalid('CGROUP_VALUE_INVALID', `${field}: ${key} is managed by the runtime and cannot be set as a resource`);
  }
  return key.slice(0, key.indexOf('.'));
}
