// The network's policy without root: Docker's subnet choice against the
// host's routes, and the resolv.conf and hosts files it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSubnet, formatSubnet, parseSubnet, macFor, parseAddress } from '../../src/net/subnet.js';
import { containerResolvConf, hostsFile } from '../../src/engine/network.js';

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
