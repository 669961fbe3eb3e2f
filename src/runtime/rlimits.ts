// Resource limits (setrlimit) are per-process ceilings the kernel enforces:
// open files, processes per user, core size... A hard limit can be raised
// only with CAP_SYS_RESOURCE; where the host lacks it we clamp to the current
// hard limit and warn instead of failing the container.
import { readFileSync } from 'node:fs';
import { invalid } from '../util/errors.js';

// Numbers from asm-generic/resource.h.
export const RLIMITS = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
} as const;
export type RlimitName = keyof typeof RLIMITS;

export const RLIM_INFINITY = (1n << 64n) - 1n;

export function rlimitNumber(type: string, field: string): number {
  const n = (RLIMITS as Record<string, number>)[type];
  if (n === undefined) throw invalid('InvalidRlimit', `${field}: unknown rlimit "${type}"`);
  return n;
}

const PROC_LIMIT_NAMES: Record<string, RlimitName> = {
  'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** This process's hard limits, read from /proc/self/limits (Node has no getrlimit). */
export function currentHardLimits(text = readFileSync('/proc/self/limits', 'utf8')): Map<RlimitName, bigint> {
  const hard = new Map<RlimitName, bigint>();
  for (const line of text.split('\n').slice(1)) {
    const name = Object.keys(PROC_LIMIT_NAMES).find((n) => line.startsWith(n));
    if (!name) continue;
    const fields = line.slice(name.length).trim().split(/\s+/);
    const value = fields[1];
    if (value === undefined) continue;
    hard.set(PROC_LIMIT_NAMES[name]!, value === 'unlimited' ? RLIM_INFINITY : BigInt(value));
  }
  return hard;
}

/** Whether this process may raise hard limits (CAP_SYS_RESOURCE in its bounding and effective sets). */
export function canRaiseHardLimits(status = readFileSync('/proc/self/status', 'utf8')): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  return eff !== undefined && ((BigInt(`0x${eff}`) >> 24n) & 1n) === 1n;
}
