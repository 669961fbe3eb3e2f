// Shared by the storage tests: a temporary root with busybox imported, the CLI
// on it, images built from busybox plus a few files, and a look at the
// volumes directory as the host sees it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { berth, busyboxRootfs, tempRoot } from './support.js';

export interface StorageRoot {
  root: string;
  /** --root and --run-root for this root. */
  args: string[];
  b: (...rest: string[]) => ReturnType<typeof berth>;
  /** The command's stdout; fails the test unless it exits 0. */
  ok: (...rest: string[]) => string;
  /** Volume names, as the host's <root>/volumes shows them. */
  volumeNames: () => string[];
  volumeData: (name: string) => string;
}

export function storageRoot(name: string): StorageRoot {
  const root = tempRoot(name);
  const dataRoot = join(root, 'data');
  const args = ['--root', dataRoot, '--run-root', join(root, 'run')];
  const b = (...rest: string[]) => berth([...args, ...rest]);
  const ok = (...rest: string[]) => {
    const r = b(...rest);
    assert.equal(r.status, 0, `berth ${rest.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const volumeNames = () => {
    try {
      return readdirSync(join(dataRoot, 'volumes')).filter((n) => !n.startsWith('.')).sort();
    } catch {
      return [];
    }
  };
  return { root, args, b, ok, volumeNames, volumeData: (n) => join(dataRoot, 'volumes', n, '_data') };
}

/** busybox:latest in this root, as the built-in image is made. */
export function importBusybox(s: StorageRoot): void {
  const tarball = join(s.root, 'busybox.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', busyboxRootfs(), '-cf', tarball, '.']);
  s.ok('import', '--epoch', '--change', 'CMD ["sh"]', tarball, 'busybox:latest');
}

/** An image: busybox plus `add(rootfs)`, imported with `changes`. */
export function makeImage(s: StorageRoot, name: string, changes: string[], add: (rootfs: string) => void): void {
  const rootfs = join(s.root, `rootfs-${name}`);
  execFileSync('cp', ['-a', busyboxRootfs(), rootfs]);
  add(rootfs);
  const tarball = join(s.root, `${name}.tar`);
  execFileSync('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=user.*', '-C', rootfs, '-cf', tarball, '.']);
  s.ok('import', ...changes.flatMap((c) => ['--change', c]), tarball, name);
}

/**
 * `withdata`: VOLUME /data holding hello (1000:1001, 0640, 15 bytes, xattr
 * user.origin=image), a link to it, and sub/deep (5 bytes); /data itself
 * 123:456, 0750.
 */
export function makeWithdata(s: StorageRoot): void {
  makeImage(s, 'withdata', ['VOLUME /data', 'CMD ["sh"]'], (rootfs) => {
    const data = join(rootfs, 'data');
    rmSync(data, { recursive: true, force: true });
    mkdirSync(data);
    writeFileSync(join(data, 'hello'), 'from the image\n');
    chownSync(join(data, 'hello'), 1000, 1001);
    chmodSync(join(data, 'hello'), 0o640);
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'image', join(data, 'hello')]);
    symlinkSync('hello', join(data, 'link'));
    mkdirSync(join(data, 'sub'));
    writeFileSync(join(data, 'sub', 'deep'), 'deep\n');
    chownSync(data, 123, 456);
    chmodSync(data, 0o750);
  });
}
