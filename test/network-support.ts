// Shared by the network tests: a berth root with busybox whose containers
// are all removed after each test, which must then have left nothing behind
// (mounts, cgroups, processes, and the network's devices, rules and port
// holders), and a shorthand for a command that must succeed.
import { after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, imageRoot, leftovers } from './support.js';

export function networkTestRoot(name: string) {
  const r = imageRoot(name);
  after(() => {
    r.removeAll();
    cleanup(r.root);
  });
  afterEach(() => {
    r.removeAll();
    assert.deepEqual(leftovers(r.root), []);
  });
  const ok = (result: ReturnType<typeof r.b>, what: string): string => {
    assert.equal(result.status, 0, `${what}: ${result.stderr}`);
    return result.stdout;
  };
  return { ...r, ok };
}
