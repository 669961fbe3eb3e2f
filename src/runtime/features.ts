// What this runtime implements, in the shape of runtime-spec features.md, so
// that an engine driving berth can ask instead of guessing.
import { NAMESPACE_TYPES } from './spec.js';
import { CAPABILITIES } from './capabilities.js';
import { PROPAGATION_OPTIONS } from './mounts.js';
import { OPERATORS } from './seccomp/compile.js';

export function runtimeFeatures(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: [],
    mountOptions: [
      'ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync', 'remount',
      'mand', 'nomand', 'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime',
      'nostrictatime', 'lazytime', 'nolazytime', 'symfollow', 'nosymfollow', 'silent', 'loud', 'bind', 'rbind',
      ...Object.keys(PROPAGATION_OPTIONS),
    ],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: [...OPERATORS],
        // Filtered by their own syscall numbers on this host's architecture.
        archs: process.arch === 'arm64' ? ['SCMP_ARCH_AARCH64'] : ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'io.berth.plan': 'berth runtime plan --bundle DIR prints every step' },
  };
}
