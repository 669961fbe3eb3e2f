// The plan: the ordered, plain-data list of operations that the native helper
// executes to turn a process into a container. TypeScript decides every step;
// C only carries them out. docs/plan-format.md is the one definition of the
// wire format; this file's OPCODES table and encoder follow it.

export type PlanOp =
  // monitor phase
  | { op: 'monitorExitFile'; path: string }
  | { op: 'monitorPidFile'; path: string }
  | { op: 'monitorStartFifo'; path: string }
  | { op: 'monitorConsoleSocket'; path: string }
  | { op: 'monitorRelayTerminal' }
  | { op: 'monitorSetns'; path: string; nstype: number; why: string }
  | { op: 'monitorForwardSignals' }
  | { op: 'monitorLogFile'; path: string }
  | { op: 'monitorOpenStdin'; stdinOnce: boolean }
  | { op: 'monitorAttachSocket'; path: string }
  | { op: 'monitorExitCommand'; argv: string[] }
  | {
    op: 'monitorHealthcheck'; probePlan: string; results: string; hook: string[];
    intervalNs: bigint; timeoutNs: bigint; startPeriodNs: bigint; startIntervalNs: bigint; retries: number;
    /** The container's freezer state file and what it reads while paused ('' and '': no freezer). */
    pausedFile: string; pausedText: string;
  }
  | { op: 'monitorHandOff' }
  // clone
  | { op: 'clone'; flags: number; why: string }
  // parent phase
  | { op: 'parentWriteProc'; relpath: string; data: string }
  | { op: 'parentJoinCgroup'; path: string }
  // child phase
  | { op: 'setns'; path: string; nstype: number; why: string }
  | { op: 'unshare'; flags: number; why: string }
  | { op: 'setIds'; uid: number; gid: number }
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string; why: string }
  | { op: 'mountInRoot'; root: string; target: string; source: string; fstype: string; flags: number; data: string; create: MountCreate; why: string }
  | { op: 'mknodInRoot'; root: string; target: string; mode: number; dev: number; uid: number; gid: number; bindIfDenied: string }
  | { op: 'symlinkInRoot'; root: string; linkpath: string; target: string }
  | { op: 'pivotRoot'; root: string }
  | { op: 'chroot'; root: string }
  | { op: 'maskPath'; path: string }
  | { op: 'readonlyPath'; path: string }
  | { op: 'writeFile'; path: string; data: string; why: string }
  | { op: 'sethostname'; name: string }
  | { op: 'setdomainname'; name: string }
  | { op: 'setrlimit'; resource: number; soft: bigint; hard: bigint; name: string }
  | { op: 'terminal' }
  | { op: 'setsid' }
  | { op: 'boundingSet'; keep: bigint }
  | { op: 'setgroups'; groups: number[] }
  | { op: 'setuidGid'; uid: number; gid: number }
  | { op: 'capset'; effective: bigint; permitted: bigint; inheritable: bigint }
  | { op: 'ambient'; raise: bigint }
  | { op: 'noNewPrivs' }
  | { op: 'seccomp'; program: Buffer; flags: number; summary: string }
  | { op: 'chdir'; path: string }
  | { op: 'waitStart' }
  | { op: 'exec'; file: string; argv: string[]; env: string[] }
  | { op: 'closeFrom'; fd: number };

export type PlanOpName = PlanOp['op'];

/** What MOUNT_IN_ROOT creates when the target is missing. */
export const MountCreate = { None: 0, Directory: 1, File: 2 } as const;
export type MountCreate = (typeof MountCreate)[keyof typeof MountCreate];

export const OPCODES: Record<PlanOpName, number> = {
  monitorExitFile: 1,
  monitorPidFile: 2,
  monitorStartFifo: 3,
  monitorConsoleSocket: 4,
  monitorRelayTerminal: 5,
  monitorSetns: 6,
  monitorForwardSignals: 7,
  monitorLogFile: 8,
  monitorOpenStdin: 9,
  monitorAttachSocket: 10,
  monitorExitCommand: 11,
  monitorHealthcheck: 13,
  monitorHandOff: 14,
  clone: 20,
  parentWriteProc: 21,
  parentJoinCgroup: 22,
  setns: 40,
  unshare: 41,
  setIds: 42,
  mount: 43,
  mountInRoot: 44,
  mknodInRoot: 45,
  symlinkInRoot: 46,
  pivotRoot: 47,
  chroot: 48,
  maskPath: 49,
  readonlyPath: 50,
  writeFile: 51,
  sethostname: 52,
  setdomainname: 53,
  setrlimit: 54,
  terminal: 55,
  setsid: 56,
  boundingSet: 57,
  setgroups: 58,
  setuidGid: 59,
  capset: 60,
  ambient: 61,
  noNewPrivs: 62,
  seccomp: 63,
  chdir: 64,
  waitStart: 65,
  exec: 66,
  closeFrom: 67,
};

export type Phase = 'monitor' | 'clone' | 'parent' | 'child';

export function phaseOf(op: PlanOp): Phase {
  const code = OPCODES[op.op];
  if (code < 20) return 'monitor';
  if (code === 20) return 'clone';
  if (code < 40) return 'parent';
  return 'child';
}

const PLAN_MAGIC = Buffer.from('BRTHPLAN', 'latin1');
const PLAN_VERSION = 1;

type Arg = bigint | number | string | Buffer | string[];

/** The arguments of each op, in wire order. */
function argsOf(op: PlanOp): Arg[] {
  switch (op.op) {
    case 'monitorExitFile':
    case 'monitorPidFile':
    case 'monitorStartFifo':
    case 'monitorConsoleSocket':
    case 'monitorLogFile':
    case 'monitorAttachSocket':
      return [op.path];
    case 'monitorOpenStdin':
      return [op.stdinOnce ? 1 : 0];
    case 'monitorExitCommand':
      return [op.argv];
    case 'monitorHealthcheck':
      return [op.probePlan, op.results, op.hook, op.intervalNs, op.timeoutNs, op.startPeriodNs, op.startIntervalNs, op.retries, op.pausedFile, op.pausedText];
    case 'monitorRelayTerminal':
    case 'monitorForwardSignals':
    case 'monitorHandOff':
    case 'terminal':
    case 'setsid':
    case 'noNewPrivs':
    case 'waitStart':
      return [];
    case 'monitorSetns':
    case 'setns':
      return [op.path, op.nstype];
    case 'clone':
    case 'unshare':
      return [op.flags];
    case 'parentWriteProc':
      return [op.relpath, op.data];
    case 'parentJoinCgroup':
      return [op.path];
    case 'setIds':
    case 'setuidGid':
      return [op.uid, op.gid];
    case 'mount':
      return [op.source, op.target, op.fstype, op.flags, op.data];
    case 'mountInRoot':
      return [op.root, op.target, op.source, op.fstype, op.flags, op.data, op.create];
    case 'mknodInRoot':
      return [op.root, op.target, op.mode, op.dev, op.uid, op.gid, op.bindIfDenied];
    case 'symlinkInRoot':
      return [op.root, op.linkpath, op.target];
    case 'pivotRoot':
    case 'chroot':
      return [op.root];
    case 'maskPath':
    case 'readonlyPath':
    case 'chdir':
      return [op.path];
    case 'writeFile':
      return [op.path, op.data];
    case 'sethostname':
    case 'setdomainname':
      return [op.name];
    case 'setrlimit':
      return [op.resource, op.soft, op.hard];
    case 'boundingSet':
      return [op.keep];
    case 'setgroups':
      return [op.groups.map(String)];
    case 'capset':
      return [op.effective, op.permitted, op.inheritable];
    case 'ambient':
      return [op.raise];
    case 'seccomp':
      return [op.program, op.flags];
    case 'exec':
      return [op.file, op.argv, op.env];
    case 'closeFrom':
      return [op.fd];
  }
}

/** Serialise a plan for the helper's fd 3. */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const parts: Buffer[] = [PLAN_MAGIC, u32(PLAN_VERSION), u32(ops.length)];
  for (const op of ops) {
    const args = argsOf(op);
    parts.push(u32(OPCODES[op.op]), u32(args.length));
    for (const arg of args) parts.push(encodeArg(arg));
  }
  return Buffer.concat(parts);
}

function encodeArg(arg: Arg): Buffer {
  if (typeof arg === 'number' || typeof arg === 'bigint') {
    const b = Buffer.alloc(9);
    b[0] = 1;
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(arg)), 1);
    return b;
  }
  if (Array.isArray(arg)) {
    const items = arg.map((s) => Buffer.from(s, 'utf8'));
    return Buffer.concat([Buffer.from([3]), u32(items.length), ...items.flatMap((b) => [u32(b.length), b])]);
  }
  const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
  return Buffer.concat([Buffer.from([2]), u32(bytes.length), bytes]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}
