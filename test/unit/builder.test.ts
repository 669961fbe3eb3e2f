// The policy, without root: a config.json in, the plan's steps out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, type BuildContext } from '../../src/runtime/builder.js';
import { parseSpec, type Spec } from '../../src/runtime/spec.js';
import { defaultSpec, DOCKER_DEFAULT_CAPABILITIES } from '../../src/runtime/defaults.js';
import { capabilityMask } from '../../src/runtime/capabilities.js';
import { CLONE_FLAGS } from '../../src/runtime/namespaces.js';
import { describePlan } from '../../src/runtime/plan-text.js';
import { encodePlan, type PlanOp } from '../../src/runtime/plan.js';
import { MS } from '../../src/runtime/mounts.js';
import { BerthError } from '../../src/util/errors.js';

const ctx: BuildContext = {
  bundle: '/bundle',
  exitFile: '/run/x/exit',
  startFifo: '/run/x/start.fifo',
  cgroup: { procsFiles: ['/sys/fs/cgroup/memory/berth/x/cgroup.procs', '/sys/fs/cgroup/pids/berth/x/cgroup.procs'], path: '/berth/x', version: 1 },
  lastCap: 40,
  hardLimits: new Map([['RLIMIT_NOFILE', 4096n]]),
  canRaiseHardLimits: false,
  isDirectory: () => true,
  isProcfs: () => false,
};

function spec(patch: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec({ args: ['/bin/sh'] });
  patch(s);
  return parseSpec(JSON.parse(JSON.stringify(s)));
}

const names = (ops: PlanOp[]) => ops.map((o) => o.op);
const find = <K extends PlanOp['op']>(ops: PlanOp[], op: K) => ops.filter((o): o is Extract<PlanOp, { op: K }> => o.op === op);

test('default spec: new namespaces at clone, cgroup ns unshared after joining the cgroup', () => {
  const { ops } = buildPlan(spec(), ctx);
  const clone = find(ops, 'clone')[0]!;
  const expected = CLONE_FLAGS.pid | CLONE_FLAGS.network | CLONE_FLAGS.ipc | CLONE_FLAGS.uts | CLONE_FLAGS.mount;
  assert.equal(clone.flags, expected);
  const order = names(ops);
  assert.ok(order.indexOf('parentJoinCgroup') > order.indexOf('clone'));
  const unshare = find(ops, 'unshare')[0]!;
  assert.equal(unshare.flags, CLONE_FLAGS.cgroup);
  assert.deepEqual(find(ops, 'parentJoinCgroup').map((o) => o.path), ctx.cgroup!.procsFiles);
});

test('the phases come in order and exec is last', () => {
  const { ops } = buildPlan(spec(), ctx);
  const order = names(ops);
  assert.equal(order.at(-1), 'exec');
  assert.ok(order.indexOf('monitorExitFile') < order.indexOf('clone'));
  for (const step of ['mountInRoot', 'mknodInRoot', 'symlinkInRoot'] as const) assert.ok(order.indexOf(step) < order.indexOf('pivotRoot'), step);
  for (const step of ['maskPath', 'readonlyPath', 'sethostname', 'capset'] as const) assert.ok(order.indexOf(step) > order.indexOf('pivotRoot'), step);
  assert.ok(order.indexOf('waitStart') < order.indexOf('exec'));
  assert.ok(order.indexOf('capset') < order.indexOf('waitStart'));
});

test("Docker's capabilities in every set but ambient, bounding dropped before setuid", () => {
  const { ops } = buildPlan(spec(), ctx);
  const mask = capabilityMask(DOCKER_DEFAULT_CAPABILITIES, 'x');
  assert.equal(find(ops, 'boundingSet')[0]!.keep, mask);
  const capset = find(ops, 'capset')[0]!;
  assert.equal(capset.effective, mask);
  assert.equal(capset.permitted, mask);
  assert.equal(capset.inheritable, 0n);
  assert.equal(find(ops, 'ambient').length, 0);
  const order = names(ops);
  assert.ok(order.indexOf('boundingSet') < order.indexOf('setuidGid'));
  assert.ok(order.indexOf('setuidGid') < order.indexOf('capset'));
});

test('masked and read-only paths are Docker\'s', () => {
  const { ops } = buildPlan(spec(), ctx);
  assert.ok(find(ops, 'maskPath').some((o) => o.path === '/proc/kcore'));
  assert.ok(find(ops, 'readonlyPath').some((o) => o.path === '/proc/sys'));
});

test('a bind mount with ro gets a second, read-only remount; propagation a third', () => {
  const { ops } = buildPlan(spec((s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'rprivate'] })), ctx);
  const data = find(ops, 'mountInRoot').filter((o) => o.target === '/data');
  assert.equal(data.length, 3);
  assert.equal(data[0]!.flags, MS.BIND | MS.REC);
  assert.equal(data[0]!.source, '/srv/data');
  assert.equal(data[1]!.flags, MS.BIND | MS.REMOUNT | MS.RDONLY);
  assert.equal(data[2]!.flags, MS.PRIVATE | MS.REC);
});

test('tmpfs options split into flags and data', () => {
  const { ops } = buildPlan(spec(), ctx);
  const shm = find(ops, 'mountInRoot').find((o) => o.target === '/dev/shm')!;
  assert.equal(shm.fstype, 'tmpfs');
  assert.equal(shm.flags, MS.NOSUID | MS.NOEXEC | MS.NODEV);
  assert.equal(shm.data, 'mode=1777,size=65536k');
});

test('cgroup v1 mount: a tmpfs with each hierarchy of the container bound in, read-only', () => {
  const { ops } = buildPlan(spec(), ctx);
  const cg = find(ops, 'mountInRoot').filter((o) => o.target.startsWith('/sys/fs/cgroup'));
  assert.equal(cg[0]!.fstype, 'tmpfs');
  const memory = cg.filter((o) => o.target === '/sys/fs/cgroup/memory');
  assert.equal(memory[0]!.source, '/sys/fs/cgroup/memory/berth/x');
  assert.ok(memory[1]!.flags & MS.RDONLY);
});

test('user namespace: maps written by the parent, ids set, devices bound instead of mknod', () => {
  const s = spec((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  const { ops } = buildPlan(s, ctx);
  assert.ok(find(ops, 'clone')[0]!.flags & CLONE_FLAGS.user);
  assert.deepEqual(find(ops, 'parentWriteProc').map((o) => [o.relpath, o.data]), [['uid_map', '0 100000 65536\n'], ['gid_map', '0 100000 65536\n']]);
  assert.equal(find(ops, 'mknodInRoot').length, 0);
  assert.ok(find(ops, 'mountInRoot').some((o) => o.target === '/dev/null' && o.source === '/dev/null'));
});

test('joined namespaces: pid and network joined by the monitor, mount by the child', () => {
  const s = spec((s) => {
    s.linux!.namespaces = [{ type: 'pid', path: '/proc/42/ns/pid' }, { type: 'network', path: '/proc/42/ns/net' }, { type: 'mount', path: '/proc/42/ns/mnt' }];
    s.mounts = [];
  });
  const { ops } = buildPlan(s, { ...ctx, joinExisting: true });
  assert.deepEqual(find(ops, 'monitorSetns').map((o) => o.path).sort(), ['/proc/42/ns/net', '/proc/42/ns/pid']);
  assert.equal(find(ops, 'clone')[0]!.flags, 0);
  assert.deepEqual(find(ops, 'setns').map((o) => o.path), ['/proc/42/ns/mnt']);
  assert.equal(find(ops, 'pivotRoot').length, 0);
});

test('rlimits above the hard limit are clamped with a warning when the host cannot raise them', () => {
  const s = spec((s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }]; });
  const { ops, warnings } = buildPlan(s, ctx);
  const rl = find(ops, 'setrlimit')[0]!;
  assert.equal(rl.hard, 4096n);
  assert.equal(rl.soft, 4096n);
  assert.match(warnings[0]!, /RLIMIT_NOFILE hard limit 1048576 clamped to 4096/);
  const raised = buildPlan(s, { ...ctx, canRaiseHardLimits: true });
  assert.equal(find(raised.ops, 'setrlimit')[0]!.hard, 1048576n);
});

test('seccomp loads before dropping privileges, or last with no_new_privs', () => {
  const seccomp = { program: Buffer.alloc(8), flags: 0, summary: 'x' };
  let order = names(buildPlan(spec(), { ...ctx, seccomp }).ops);
  assert.ok(order.indexOf('seccomp') < order.indexOf('capset'));
  order = names(buildPlan(spec((s) => { s.process!.noNewPrivileges = true; }), { ...ctx, seccomp }).ops);
  assert.ok(order.indexOf('noNewPrivs') < order.indexOf('seccomp'));
  assert.equal(order.indexOf('seccomp'), order.length - 2);
});

test('bad bundles get errors naming the field', () => {
  const bad = (patch: (s: Record<string, unknown>) => void) => {
    const s = JSON.parse(JSON.stringify(defaultSpec())) as Record<string, unknown>;
    patch(s);
    return () => buildPlan(parseSpec(s), ctx);
  };
  assert.throws(bad((s) => { (s.linux as { namespaces: unknown[] }).namespaces.push({ type: 'bogus' }); }), /linux\.namespaces\[6\]\.type: unknown namespace type/);
  assert.throws(bad((s) => { (s.process as { args: unknown[] }).args = []; }), /process\.args: must name the program/);
  assert.throws(bad((s) => { (s.process as { cwd: string }).cwd = 'relative'; }), /process\.cwd: must be an absolute path/);
  assert.throws(bad((s) => { (s.process as { capabilities: { bounding: string[] } }).capabilities.bounding.push('CAP_FLY'); }), /process\.capabilities\.bounding\[14\]: unknown capability "CAP_FLY"/);
  assert.throws(bad((s) => { (s.process as { rlimits: unknown[] }).rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]; }), /process\.rlimits\[0\]\.type: unknown rlimit "RLIMIT_BOGUS"/);
  assert.throws(bad((s) => { (s.linux as { namespaces: unknown[] }).namespaces.push({ type: 'user' }); }), /linux\.uidMappings: a new user namespace needs uid mappings/);
  assert.throws(bad((s) => { (s.mounts as unknown[]).push({ destination: 'rel', type: 'tmpfs' }); }), /must be an absolute path/);
  assert.throws(bad((s) => { delete s.root; }), (e: unknown) => e instanceof BerthError && /root: /.test(e.message));
});

test('the plan encodes and reads as words', () => {
  const { ops } = buildPlan(spec(), ctx);
  const bytes = encodePlan(ops);
  assert.equal(bytes.subarray(0, 8).toString(), 'BRTHPLAN');
  assert.equal(bytes.readUInt32LE(12), ops.length);
  const text = describePlan(ops);
  assert.match(text, /pid +own process ids/);
  assert.match(text, /pivot_root into \/bundle\/rootfs/);
  assert.match(text, /mask \/proc\/kcore/);
  assert.match(text, /capabilities: effective chown dac_override/);
  assert.match(text, /execve \["\/bin\/sh"\]/);
});

test('cgroup v2 cannot enforce device rules yet: CAP_MKNOD is withheld, with a warning', () => {
  const { ops, warnings } = buildPlan(spec(), { ...ctx, cgroup: { ...ctx.cgroup!, version: 2 } });
  const mknod = capabilityMask(['CAP_MKNOD'], 'x');
  assert.equal(find(ops, 'boundingSet')[0]!.keep & mknod, 0n);
  assert.equal(find(ops, 'capset')[0]!.effective & mknod, 0n);
  assert.match(warnings.join('\n'), /device rules are not enforced on cgroup v2/);
  // On v1 the devices controller enforces them: the capability stays.
  assert.equal(find(buildPlan(spec(), ctx).ops, 'boundingSet')[0]!.keep & mknod, mknod);
});

test('only namespaced sysctls are accepted: a host-wide one would change the host', () => {
  assert.throws(() => buildPlan(spec((s) => { s.linux!.sysctl = { 'kernel.core_pattern': '|/tmp/x' }; }), ctx), /"kernel.core_pattern" is not namespaced/);
  assert.throws(() => buildPlan(spec((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'ipc'); s.linux!.sysctl = { 'kernel.shmmax': '1' }; }), ctx), /needs a ipc namespace/);
  const { ops } = buildPlan(spec((s) => { s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '9000' }; }), ctx);
  assert.deepEqual(find(ops, 'writeFile').map((o) => o.path), ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/msgmax']);
});

test('a linux.devices entry replaces the default device of the same path', () => {
  const { ops } = buildPlan(spec((s) => { s.linux!.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 5, fileMode: 0o600 }]; }), ctx);
  const nulls = find(ops, 'mknodInRoot').filter((o) => o.target === '/dev/null');
  assert.equal(nulls.length, 1);
  assert.equal(nulls[0]!.mode & 0o7777, 0o600);
});

test('an invalid hostname is refused before anything runs', () => {
  assert.throws(() => buildPlan(spec((s) => { s.hostname = 'bad\nhost'; }), ctx), /hostname: .* is not a valid hostname/);
  assert.throws(() => buildPlan(spec((s) => { s.hostname = 'x'.repeat(65); }), ctx), /not a valid hostname/);
});

test('a device path is normalised before the "under /dev" check', () => {
  assert.throws(() => spec((s) => { s.linux!.devices = [{ path: '/dev/../etc/passwd', type: 'c', major: 1, minor: 3 }]; }),
    /linux\.devices\[0\]\.path: "\/dev\/\.\.\/etc\/passwd" must be under \/dev/);
  assert.throws(() => spec((s) => { s.linux!.devices = [{ path: '/dev/', type: 'c', major: 1, minor: 3 }]; }), /must be under \/dev/);
  const { ops } = buildPlan(spec((s) => { s.linux!.devices = [{ path: '/dev/./x/../fuse', type: 'c', major: 10, minor: 229 }]; }), ctx);
  assert.deepEqual(find(ops, 'mknodInRoot').filter((o) => o.target.includes('fuse')).map((o) => o.target), ['/dev/fuse']);
});

test("mount destinations in /proc are refused as runc refuses them; lxcfs's files and a procfs are allowed", () => {
  const withMount = (m: { destination: string; type?: string; source?: string; options?: string[] }, c: BuildContext = ctx) =>
    () => buildPlan(spec((s) => { s.mounts!.push(m); }), c);
  assert.throws(withMount({ destination: '/proc', type: 'bind', source: '/tmp', options: ['rbind'] }),
    (e: unknown) => e instanceof BerthError && e.kind === 'invalid' && /mounts\[\d+\]\.destination: "\/proc" cannot be mounted because it is not of type proc/.test(e.message));
  assert.throws(withMount({ destination: '/proc/', type: 'tmpfs', source: 'tmpfs' }), /"\/proc" cannot be mounted because it is not of type proc/);
  assert.throws(withMount({ destination: '/proc/sys', type: 'bind', source: '/tmp', options: ['rbind'] }), /"\/proc\/sys" cannot be mounted because it is inside \/proc/);
  assert.throws(withMount({ destination: '/proc/sys/kernel/../../sysrq-trigger', type: 'bind', source: '/tmp/x', options: ['bind'] }), /"\/proc\/sysrq-trigger" cannot be mounted because it is inside \/proc/);
  assert.throws(withMount({ destination: '/proc/self/fd', type: 'tmpfs', source: 'tmpfs' }), /inside \/proc/);
  // What runc lets through: a fresh procfs, a bind of a procfs, lxcfs's files, and anything beside /proc.
  for (const ok of [
    withMount({ destination: '/proc', type: 'proc', source: 'proc' }),
    withMount({ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] }, { ...ctx, isProcfs: (p) => p === '/proc' }),
    withMount({ destination: '/proc/meminfo', type: 'bind', source: '/var/lib/lxcfs/proc/meminfo', options: ['bind'] }),
    withMount({ destination: '/processes', type: 'bind', source: '/tmp', options: ['rbind'] }),
  ]) ok();
});
