// Networking as Docker has it, on real containers: the default bridge (two
// containers reach each other, the host reaches them), `--network none` and
// `--network host`, the files Docker writes, addresses that are never handed
// out twice, and nothing of the network left on the host after `rm` or a
// crash. Traffic goes only to addresses of this host and of the containers
// the test starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { berthAsync, eventually, networkLeftoversOf } from '../support.js';
import { networkTestRoot } from '../network-support.js';

const { root, dataRoot, runRoot, b, ok } = networkTestRoot('network');

const ipOf = (name: string) => ok(b('inspect', '-f', '{{.NetworkSettings.IPAddress}}', name), 'inspect').trim();

test('two containers on the default bridge reach each other, and the host reaches them', () => {
  ok(b('run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo served-by-web > /tmp/index.html && exec httpd -f -p 80 -h /tmp'), 'run web');
  ok(b('run', '-d', '--name', 'client', 'busybox', 'sleep', '300'), 'run client');
  const web = ipOf('web');
  const client = ipOf('client');
  assert.match(web, /^\d+\.\d+\.\d+\.\d+$/);
  assert.notEqual(web, client);
  const gateway = ok(b('inspect', '-f', '{{.NetworkSettings.Gateway}}', 'web'), 'inspect').trim();
  const bridge = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })) as { ifname: string; addr_info: { local: string }[] }[];
  assert.ok(bridge.some((l) => /^berth\d+$/.test(l.ifname) && l.addr_info.some((a) => a.local === gateway)), `the gateway ${gateway} is on a berth bridge`);
  ok(b('exec', 'client', 'ping', '-c', '1', '-W', '5', web), 'ping from the other container');
  assert.equal(ok(b('exec', 'client', 'wget', '-q', '-O', '-', `http://${web}/`), 'wget from the other container').trim(), 'served-by-web');
  // The host, over the bridge.
  assert.equal(execFileSync('busybox', ['wget', '-q', '-O', '-', `http://${web}/`], { encoding: 'utf8' }).trim(), 'served-by-web');
  // The container's side: eth0 with its address and Docker's MAC, a default route through the gateway.
  const inside = ok(b('exec', 'client', 'ip', 'addr', 'show', 'eth0'), 'ip addr');
  assert.match(inside, new RegExp(`inet ${client.replace(/\./g, '\\.')}/16`));
  const mac = ok(b('inspect', '-f', '{{.NetworkSettings.MacAddress}}', 'client'), 'inspect').trim();
  assert.match(inside, new RegExp(mac));
  assert.match(ok(b('exec', 'client', 'ip', 'route'), 'ip route'), new RegExp(`default via ${gateway.replace(/\./g, '\\.')} dev eth0`));
});

test('/etc/hosts, /etc/hostname and /etc/resolv.conf as Docker writes them', () => {
  const out = ok(b('run', '--rm', '-h', 'box', 'busybox', 'sh', '-c', 'cat /etc/hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; ip -o -4 addr show eth0'), 'run');
  const [name, hosts, resolv, addr] = out.split('---\n');
  assert.equal(name, 'box\n');
  const address = /inet (\S+)\//.exec(addr!)?.[1];
  assert.ok(address, addr);
  assert.match(hosts!, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(hosts!, new RegExp(`^${address.replace(/\./g, '\\.')}\\tbox$`, 'm'));
  // The host's resolvers, but none on its loopback, which the container cannot reach.
  const hostServers = readFileSync('/etc/resolv.conf', 'utf8').split('\n').filter((l) => /^nameserver\s/.test(l) && !/\s(127\.|::1)/.test(l));
  for (const server of hostServers) assert.ok(resolv!.includes(server), `${server} in ${resolv}`);
  assert.doesNotMatch(resolv!, /nameserver 127\./);
});

test('--network none has only loopback, up', () => {
  const links = ok(b('run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link'), 'run').trim().split('\n');
  assert.equal(links.length, 1, links.join('\n'));
  assert.match(links[0]!, /^1: lo: <LOOPBACK,UP/);
  assert.equal(ok(b('run', '--rm', '--net', 'none', 'busybox', 'ip', '-o', 'link'), 'run --net').trim().split('\n').length, 1);
  assert.equal(ok(b('inspect', '-f', '{{.HostConfig.NetworkMode}}', ok(b('create', '--network', 'none', 'busybox'), 'create').trim()), 'inspect').trim(), 'none');
});

test('--network host sees the host\'s interfaces and hostname', () => {
  const hostLinks = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname).sort();
  const out = ok(b('run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net; echo ---; hostname'), 'run');
  const [links, name] = out.split('---\n');
  assert.deepEqual(links!.trim().split(/\s+/).sort(), hostLinks);
  assert.equal(name!.trim(), hostname());
});

test('an unknown network is refused before anything is made', () => {
  const r = b('run', '--rm', '--network', 'nosuchnet', 'busybox', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /network nosuchnet not found/);
  assert.equal(ok(b('ps', '-a', '-q'), 'ps'), '');
});

test('containers started at once get distinct addresses', async () => {
  const count = 8;
  const runs = await Promise.all(Array.from({ length: count }, (_, i) => berthAsync(['--root', dataRoot, '--run-root', runRoot, 'run', '-d', '--name', `c${i}`, 'busybox', 'sleep', '300'])));
  for (const r of runs) assert.equal(r.status, 0, r.stderr);
  const addresses = Array.from({ length: count }, (_, i) => ipOf(`c${i}`));
  assert.equal(new Set(addresses).size, count, addresses.join(' '));
  // A freed address is handed out again; one in use never.
  ok(b('rm', '-f', 'c0'), 'rm');
  ok(b('run', '-d', '--name', 'again', 'busybox', 'sleep', '300'), 'run');
  const again = ipOf('again');
  assert.ok(!addresses.slice(1).includes(again), `${again} is still used by another container`);
});

test('a stopped container gives its address back, and the last one takes the bridge with it', () => {
  ok(b('run', '-d', '--name', 'one', 'busybox', 'sleep', '300'), 'run');
  assert.notDeepEqual(networkLeftoversOf(root), []);
  ok(b('stop', '-t', '0', 'one'), 'stop');
  assert.equal(ipOf('one'), '');
  assert.deepEqual(networkLeftoversOf(root), []);
  ok(b('start', 'one'), 'start again');
  assert.match(ipOf('one'), /^\d+\.\d+\.\d+\.\d+$/);
  ok(b('rm', '-f', 'one'), 'rm');
  assert.deepEqual(networkLeftoversOf(root), []);
});

test('after a crash the next command releases what the dead container held', async () => {
  ok(b('run', '-d', '--name', 'victim', 'busybox', 'sleep', '300'), 'run');
  const pid = Number(ok(b('inspect', '-f', '{{.State.Pid}}', 'victim'), 'inspect').trim());
  // The monitor and the container die without any exit hook running.
  const monitor = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
  process.kill(monitor, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  await eventually(() => { try { readFileSync(`/proc/${pid}/stat`); return false; } catch { return true; } }, 10_000, 'the container process to go');
  ok(b('ps', '-a'), 'ps');
  assert.deepEqual(networkLeftoversOf(root), []);
});

test('a bridge that a killed command brought up but never recorded is removed by the next join', () => {
  // What `ip link add` leaves when berth dies inside its transaction: a device with this root's mark, no record.
  const owner = `berth:${createHash('sha256').update(resolve(dataRoot, 'berth.db')).digest('hex').slice(0, 16)}`;
  execFileSync('ip', ['link', 'add', 'name', 'berth97', 'type', 'bridge']);
  execFileSync('ip', ['link', 'set', 'dev', 'berth97', 'alias', owner]);
  try {
    ok(b('run', '--rm', 'busybox', 'true'), 'run');
    assert.throws(() => execFileSync('ip', ['link', 'show', 'dev', 'berth97'], { stdio: 'ignore' }));
  } finally {
    spawnSync('ip', ['link', 'delete', 'dev', 'berth97']);
  }
});
