// The plan in plain words: what `berth runtime plan` prints. Reading it is
// how a person learns what a container is made of, step by step.
import type { PlanOp } from './plan.js';
import { phaseOf } from './plan.js';
import { CLONE_FLAGS, NAMESPACE_PURPOSE } from './namespaces.js';
import { capabilityNames } from './capabilities.js';
import { mountFlagNames } from './mounts.js';
import { RLIM_INFINITY } from './rlimits.js';
import type { NamespaceType } from './spec.js';

function namespaceNames(flags: number): NamespaceType[] {
  return (Object.entries(CLONE_FLAGS) as [NamespaceType, number][]).filter(([, f]) => (flags & f) === f).map(([t]) => t);
}

function caps(mask: bigint): string {
  const names = capabilityNames(mask).map((n) => n.slice(4).toLowerCase());
  return names.length ? names.join(' ') : '(none)';
}

function limit(n: bigint): string {
  return n === RLIM_INFINITY ? 'unlimited' : String(n);
}

function mountWords(op: { source: string; fstype: string; flags: number; data: string }): string {
  const flags = mountFlagNames(op.flags).join(',');
  return [op.fstype ? `type ${op.fstype}` : '', op.source ? `from ${op.source}` : '', flags ? `flags ${flags}` : '', op.data ? `data ${op.data}` : '']
    .filter(Boolean).join(', ');
}

const ms = (ns: bigint) => Number(ns / 1_000_000n);

export function describeOp(op: PlanOp): string {
  switch (op.op) {
    case 'monitorExitFile': return `monitor: record the exit status in ${op.path}`;
    case 'monitorPidFile': return `monitor: write the container's pid to ${op.path}`;
    case 'monitorStartFifo': return `monitor: hold the process before execve until \`start\` writes to ${op.path}`;
    case 'monitorConsoleSocket': return `monitor: send the terminal to ${op.path}`;
    case 'monitorRelayTerminal': return 'monitor: relay this terminal to the container\'s terminal';
    case 'monitorSetns': return `monitor: ${op.why} ${op.path} (the process is born in it)`;
    case 'monitorForwardSignals': return 'monitor: forward signals it receives to the container';
    case 'monitorLogFile': return `monitor: keep the container's output in ${op.path} (Docker's json-file format)`;
    case 'monitorOpenStdin': return `monitor: keep the container's stdin open for attach clients${op.stdinOnce ? ' (closed when the first of them closes it)' : ''}`;
    case 'monitorAttachSocket': return `monitor: serve attach clients on ${op.path}`;
    case 'monitorExitCommand': return `monitor: once the container has ended, run ${JSON.stringify(op.argv)}`;
    case 'monitorHealthcheck': return `monitor: while the container runs, probe it every ${ms(op.intervalNs)} ms (${ms(op.startIntervalNs)} ms in the first ${ms(op.startPeriodNs)} ms while starting) with the plan in ${op.probePlan}, killed after ${ms(op.timeoutNs)} ms; unhealthy after ${op.retries} failures in a row; results in ${op.results}; on each change of status run ${JSON.stringify(op.hook)} with the status appended${op.pausedFile ? `; no probe while ${op.pausedFile} reads ${op.pausedText}` : ''}`;
    case 'monitorHandOff': return 'monitor: once the process waits to start, hand it the start FIFO and leave, so that the caller\'s subreaper becomes its parent (runc\'s contract)';
    case 'clone': {
      const types = namespaceNames(op.flags);
      return types.length
        ? `clone the container process into ${op.why}:\n${types.map((t) => `      ${t.padEnd(8)} ${NAMESPACE_PURPOSE[t]}`).join('\n')}`
        : 'clone the container process (no new namespaces)';
    }
    case 'parentWriteProc': return `write /proc/<pid>/${op.relpath}: ${op.data.trim().replaceAll('\n', '; ')}${op.relpath.endsWith('_map') ? '  (container id, host id, count)' : ''}`;
    case 'parentJoinCgroup': return `put the process in cgroup ${op.path.replace(/\/cgroup\.procs$/, '')}`;
    case 'setns': return `${op.why}: ${op.path}`;
    case 'unshare': return `unshare: ${op.why}`;
    case 'setIds': return `become uid ${op.uid}, gid ${op.gid} inside the user namespace`;
    case 'mount': return `mount ${op.target}: ${op.why} (${mountWords(op)})`;
    case 'mountInRoot': return `mount ${op.target} inside the root: ${op.why} (${mountWords(op)})`;
    case 'mknodInRoot': return `create device ${op.target} (mode ${op.mode.toString(8)}, ${Math.floor(op.dev / 256) & 0xfff}:${(op.dev & 0xff) | ((op.dev >>> 12) & ~0xff)})`;
    case 'symlinkInRoot': return `link ${op.linkpath} -> ${op.target}`;
    case 'pivotRoot': return `pivot_root into ${op.root}; the host's filesystem is detached and gone from view`;
    case 'chroot': return `chroot into ${op.root} (no mount namespace: weaker than pivot_root)`;
    case 'maskPath': return `mask ${op.path} (hidden behind an empty, read-only file or directory)`;
    case 'readonlyPath': return `make ${op.path} read-only`;
    case 'writeFile': return `${op.why} (write ${op.path})`;
    case 'sethostname': return `set hostname "${op.name}"`;
    case 'setdomainname': return `set domain name "${op.name}"`;
    case 'setrlimit': return `rlimit ${op.name}: soft ${limit(op.soft)}, hard ${limit(op.hard)}`;
    case 'terminal': return 'new session with a new terminal (pty) as stdin, stdout and stderr';
    case 'setsid': return 'new session (no terminal)';
    case 'boundingSet': return `capability bounding set: ${caps(op.keep)}`;
    case 'setgroups': return `supplementary groups: ${op.groups.length ? op.groups.join(' ') : '(none)'}`;
    case 'setuidGid': return `become uid ${op.uid}, gid ${op.gid}`;
    case 'capset': return `capabilities: effective ${caps(op.effective)}; permitted ${caps(op.permitted)}; inheritable ${caps(op.inheritable)}`;
    case 'ambient': return `ambient capabilities: ${caps(op.raise)}`;
    case 'noNewPrivs': return 'no_new_privs: execve can never grant more privileges (setuid bits, file capabilities)';
    case 'seccomp': return `seccomp filter: ${op.summary} (${op.program.length / 8} BPF instructions)`;
    case 'chdir': return `working directory ${op.path}`;
    case 'closeFrom': return `close every inherited file descriptor from ${op.fd} up`;
    case 'waitStart': return 'wait for `start`';
    case 'exec': return `execve ${JSON.stringify(op.argv)} with ${op.env.length} environment variable${op.env.length === 1 ? '' : 's'}`;
  }
}

const PHASE_TITLES = {
  monitor: 'The monitor (berth-helper, stays behind to watch the container)',
  clone: 'The container process is created',
  parent: 'From outside, before it goes on',
  child: 'Inside the container process, in order',
} as const;

export function describePlan(ops: readonly PlanOp[], extra: { cgroup?: string[]; warnings?: string[] } = {}): string {
  const lines: string[] = [];
  let phase: string | undefined;
  if (extra.cgroup?.length) {
    lines.push('Prepared from outside (cgroup and limits)');
    for (const l of extra.cgroup) lines.push(`  - ${l}`);
  }
  ops.forEach((op, i) => {
    const p = phaseOf(op);
    if (p !== phase) {
      phase = p;
      lines.push(PHASE_TITLES[p]);
    }
    lines.push(`  ${String(i + 1).padStart(2)}. ${describeOp(op)}`);
  });
  for (const w of extra.warnings ?? []) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}
