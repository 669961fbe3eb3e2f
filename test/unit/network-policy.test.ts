// The network's policy without root: Docker's subnet choice against the
// host's routes, and the resolv.conf and hosts files it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSubnet, formatSubnet, parseSubnet, macFor, parseAddress } from '../../src/net/subnet.js';
import { containerResolvConf, hostsFile, portRequests } from '../../src/engine/network.js';
import { parseExpose, parsePublish } from '../../src/cli/container/flags-network.js';

test('the first of Docker\'s default pools that no host route overlaps', () => {
  assert.equal(formatSubnet(chooseSubnet([])!), '172.17.0.0/16');
  assert.equal(formatSubnet(chooseSubnet([parseSubnet('192.0.2.0/24'), parseSubnet('172.17.5.0/24')])!), '172.18.0.0/16');
  // A wide route covers several pools at once.
  assert.equal(formatSubnet(chooseSubnet([parseSubnet('172.16.0.0/12')])!), '192.168.0.0/20');
  assert.equal(formatSubnet(chooseSubnet([parseSubnet('172.16.0.0/12'), parseSubnet('192.168.0.0/19')])!), '192.168.32.0/20');
  assert.equal(chooseSubnet([parseSubnet('0.0.0.0/1'), parseSubnet('128.0.0.0/1')]), undefined);
});

test('a container\'s MAC is derived from its address, as Docker\'s was', () => {
  assert.equal(macFor(parseAddress('172.17.0.2')), '02:42:ac:11:00:02');
});

test('resolv.conf keeps the host\'s resolvers but those on its loopback', () => {
  assert.equal(containerResolvConf('search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n'),
    'search example.org\nnameserver 10.0.0.2\noptions edns0\n');
  assert.equal(containerResolvConf('nameserver 127.0.0.53\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
});

test('hosts names the container by its address', () => {
  assert.match(hostsFile('box', '172.17.0.2'), /^127\.0\.0\.1\tlocalhost\n[^]*\n172\.17\.0\.2\tbox\n$/);
  assert.doesNotMatch(hostsFile('box'), /box/);
});

test('-p and --expose read as Docker\'s CLI reads them', () => {
  assert.deepEqual(parsePublish('80'), [['80/tcp', { HostIp: '', HostPort: '' }]]);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [['80/udp', { HostIp: '127.0.0.1', HostPort: '8080' }]]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [['80/tcp', { HostIp: '127.0.0.1', HostPort: '' }]]);
  assert.deepEqual(parsePublish('8000-8001:80-81'), [['80/tcp', { HostIp: '', HostPort: '8000' }], ['81/tcp', { HostIp: '', HostPort: '8001' }]]);
  // One container port on a host range: the first free port of it.
  assert.deepEqual(parsePublish('8000-8010:80'), [['80/tcp', { HostIp: '', HostPort: '8000-8010' }]]);
  assert.deepEqual(parseExpose('7000-7001/udp'), ['7000/udp', '7001/udp']);
  assert.throws(() => parsePublish('[::1]:80:80'), /IPv4 addresses only/);
});

test('-P publishes the exposed ports that -p did not', () => {
  const requests = portRequests({ Image: 'x', ExposedPorts: { '80/tcp': {}, '81/tcp': {} }, HostConfig: { PublishAllPorts: true, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } } }, ['9000/udp']);
  assert.deepEqual(requests.map((r) => `${r.containerPort}/${r.proto} ${r.first}-${r.last}`), ['80/tcp 8080-8080', '9000/udp 0-0', '81/tcp 0-0']);
});
