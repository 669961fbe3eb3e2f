// Linux capabilities split root's power into ~41 bits. A process has five
// sets: bounding (the ceiling for anything it may ever gain), permitted,
// effective (what the kernel checks now), inheritable and ambient (what
// survives execve). The plan carries each set as a 64-bit mask.
import { invalid } from '../util/errors.js';

// Numbers from linux/capability.h.
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

export type CapabilityName = (typeof CAPABILITIES)[number];

/** Normalise "net_raw", "NET_RAW" or "CAP_NET_RAW" to "CAP_NET_RAW", or undefined. */
export function capabilityName(name: string): CapabilityName | undefined {
  const upper = name.toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return (CAPABILITIES as readonly string[]).includes(full) ? (full as CapabilityName) : undefined;
}

/** The capabilities the running kernel knows (cap_last_cap), as a mask. */
export function kernelCapabilityMask(lastCap: number): bigint {
  return (1n << BigInt(lastCap + 1)) - 1n;
}

/** Turn a list of names into a mask; `field` names the spec field in errors. */
export function capabilityMask(names: readonly string[] | undefined, field: string): bigint {
  let mask = 0n;
  for (const [i, name] of (names ?? []).entries()) {
    const canonical = capabilityName(name);
    if (!canonical) throw invalid('InvalidCapability', `${field}[${i}]: unknown capability "${name}"`);
    mask |= 1n << BigInt(CAPABILITIES.indexOf(canonical));
  }
  return mask;
}

export function capabilityNames(mask: bigint): CapabilityName[] {
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}
