// Published ports on real containers: the host's 127.0.0.1, the bridge and
// other containers reach them; the host port is held while published (no
// other program and no second container can take it) and free again after;
// `-P` picks free ports; `port`, `ps` and `inspect` show the mappings. Only
// loopback and the test's own containers are ever contacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { networkLeftoversOf } from '../support.js';
import { networkTestRoot } from '../network-support.js';

const { root, b, ok } = networkTestRoot('network-ports');

/** A port free on the host right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether this process could listen on the port now. */
async function canListen(port: number, host = '0.0.0.0'): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

const hostGet = (url: string) => execFileSync('busybox', ['wget', '-q', '-O', '-', url], { encoding: 'utf8' }).trim();
const HTTPD = ['sh', '-c', 'echo "served by $(hostname)" > /tmp/index.html && exec httpd -f -p 80 -h /tmp'];

test('-p 127.0.0.1:PORT:80 answers on the host\'s loopback, and the port is held while published', async () => {
  const port = await freePort();
  ok(b('run', '-d', '--name', 'web', '-h', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD), 'run');
  assert.equal(hostGet(`http://127.0.0.1:${port}/`), 'served by web');
  assert.equal(ok(b('port', 'web'), 'port'), `80/tcp -> 127.0.0.1:${port}\n`);
  assert.equal(ok(b('port', 'web', '80'), 'port 80'), `127.0.0.1:${port}\n`);
  assert.deepEqual(JSON.parse(ok(b('inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web'), 'inspect')), { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
  assert.match(ok(b('ps'), 'ps'), new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp`));
  // No other program, and no second container, can take the port meanwhile.
  assert.equal(await canListen(port, '127.0.0.1'), false);
  const second = b('run', '-d', '--name', 'second', '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD);
  assert.equal(second.status, 125);
  assert.match(second.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`));
  // The one that got it still serves; the refused one left no rule or holder behind.
  assert.equal(hostGet(`http://127.0.0.1:${port}/`), 'served by web');
  ok(b('rm', '-f', 'web'), 'rm');
  assert.equal(await canListen(port, '127.0.0.1'), true);
  assert.deepEqual(networkLeftoversOf(root), []);
});

test('a port published on every address is reached from the bridge, another container and the container itself', async () => {
  const port = await freePort();
  ok(b('run', '-d', '--name', 'web', '-h', 'web', '-p', `${port}:80`, 'busybox', ...HTTPD), 'run');
  const gateway = ok(b('inspect', '-f', '{{.NetworkSettings.Gateway}}', 'web'), 'inspect').trim();
  assert.equal(hostGet(`http://127.0.0.1:${port}/`), 'served by web');
  assert.equal(hostGet(`http://${gateway}:${port}/`), 'served by web');
  assert.equal(ok(b('run', '--rm', 'busybox', 'wget', '-q', '-O', '-', `http://${gateway}:${port}/`), 'from another container').trim(), 'served by web');
  // Hairpin: the container through its own published port.
  assert.equal(ok(b('exec', 'web', 'wget', '-q', '-O', '-', `http://${gateway}:${port}/`), 'from itself').trim(), 'served by web');
});

test('-P publishes every exposed port on a free host port, listed by port', () => {
  ok(b('run', '-d', '--name', 'web', '-h', 'web', '-P', '--expose', '80', '--expose', '7000-7001/udp', 'busybox', ...HTTPD), 'run');
  const lines = ok(b('port', 'web'), 'port').trim().split('\n');
  assert.equal(lines.length, 3, lines.join('\n'));
  const http = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(lines[0]!);
  assert.ok(http, lines[0]);
  assert.match(lines[1]!, /^7000\/udp -> 0\.0\.0\.0:\d+$/);
  assert.equal(hostGet(`http://127.0.0.1:${http[1]}/`), 'served by web');
  const none = b('port', 'web', '81');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /No public port '81\/tcp' published for web/);
});

test('bad -p and --expose specs and conflicting modes are refused with Docker\'s words', () => {
  const cases: [string[], RegExp][] = [
    [['-p', '80:abc'], /invalid containerPort: abc/],
    [['-p', 'x:80'], /invalid hostPort: x/],
    [['-p', '80/sctpx'], /invalid proto: sctpx/],
    [['-p', '1.2.3:80:80'], /invalid IP address: 1\.2\.3/],
    [['-p', '8000-8002:80-81'], /invalid ranges specified for container and host Ports/],
    [['--expose', '70000'], /invalid containerPort: 70000/],
    [['--network', 'none', '-p', '80'], /conflicting options: port publishing and the container type network mode/],
  ];
  for (const [flags, message] of cases) {
    const r = b('run', '--rm', ...flags, 'busybox', 'true');
    assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, flags.join(' '));
  }
  assert.equal(ok(b('ps', '-a', '-q'), 'ps'), '');
});
