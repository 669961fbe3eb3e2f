// Docker's syntax and checks for -v, --mount and --tmpfs, as the CLI reads
// them and the engine judges them (the engine's messages are moby's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMountSpec, parseTmpfs, mountPointsOf } from '../../src/engine/mount-points.js';
import { parseMountFlag, csvFields, storageFlags } from '../../src/cli/container/flags-storage.js';
import type { CreateBody } from '../../src/engine/host-config.js';

/** `fn` refuses its input as the user's fault (exit 125), with a message matching `message`. */
function refuses(fn: () => unknown, message: RegExp, what = message.source): void {
  assert.throws(fn, (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'invalid', what);
    assert.match(err.message, message, what);
    return true;
  });
}

test('-v: host paths are binds, other sources volume names, one path an anonymous volume', () => {
  assert.deepEqual(parseBind('/host//dir/:/ctr/'), { type: 'bind', source: '/host/dir/', target: '/ctr', readOnly: false, propagation: 'rprivate', recursive: true, createSource: true });
  assert.deepEqual(parseBind('/h:/c:ro,rshared,z'), { type: 'bind', source: '/h', target: '/c', readOnly: true, propagation: 'rshared', recursive: true, createSource: true });
  assert.deepEqual(parseBind('data:/var/lib/x:ro'), { type: 'volume', name: 'data', target: '/var/lib/x', readOnly: true, copyData: true });
  assert.deepEqual(parseBind('data:/x:nocopy'), { type: 'volume', name: 'data', target: '/x', readOnly: false, copyData: false });
  assert.deepEqual(parseBind('/cache'), { type: 'volume', target: '/cache', readOnly: false, copyData: true });
});

test('-v: the errors Docker gives', () => {
  const cases: [string, RegExp][] = [
    ['./rel:/x', /^create \.\/rel: "\.\/rel" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed\. If you intended to pass a host directory, use absolute path$/],
    ['rel/dir:/x', /"rel\/dir" includes invalid characters for a local volume name/],
    ['~/x:/x', /includes invalid characters/],
    ['/tmp:rel', /^invalid volume specification: '\/tmp:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute$/],
    ['vol:rel', /invalid mount config for type "volume": invalid mount path: 'rel'/],
    ['rel', /invalid mount path: 'rel' mount path must be absolute/],
    ['/tmp:/x:bogus', /^invalid volume specification: '\/tmp:\/x:bogus': invalid mode: bogus$/],
    ['/tmp:/x:ro,rw', /invalid mode: ro,rw/],
    ['/tmp:/x:z,Z', /invalid mode: z,Z/],
    ['/tmp:/x:private,shared', /invalid mode/],
    ['a:/b:ro:extra', /^invalid volume specification: 'a:\/b:ro:extra'$/],
    [':/x', /^invalid volume specification: ':\/x'$/],
    ['/tmp:/', /destination can't be '\/'/],
    ['/tmp:/..', /destination can't be '\/'/],
    ['/tmp:ro', /^invalid volume specification: '\/tmp:ro'$/],
    ['vol:/x:rshared', /propagation is only for bind mounts/],
    ['/tmp:/x:nocopy', /nocopy \(only for volumes\)/],
  ];
  for (const [spec, message] of cases) {
    refuses(() => parseBind(spec), message, spec);
  }
});

test('--mount: Docker CLI\'s CSV keys, into the API\'s Mount', () => {
  assert.deepEqual(parseMountFlag('type=bind,source=/h,target=/c,readonly,bind-propagation=RSLAVE'),
    { Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { Propagation: 'rslave' } });
  assert.deepEqual(parseMountFlag('src=v,dst=/d,ro=false,volume-nocopy=true,volume-label=a=b=c'),
    { Type: 'volume', Source: 'v', Target: '/d', ReadOnly: false, VolumeOptions: { NoCopy: true, Labels: { a: 'b=c' } } });
  assert.deepEqual(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=1.5m,tmpfs-mode=1770'),
    { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1572864, Mode: 0o1770 } });
  assert.deepEqual(parseMountFlag('"type=bind","source=/a,b",target=/c'), { Type: 'bind', Source: '/a,b', Target: '/c' });
  assert.equal(parseMountFlag(`type=bind,source=./here,target=/c`).Source, `${process.cwd()}/here`, 'Docker\'s CLI takes ./ from the current directory');
  assert.deepEqual(csvFields('a,"b ""q""",,c', '--mount'), ['a', 'b "q"', '', 'c']);
  const bad: [string, RegExp][] = [
    ['source=v1', /^invalid argument "source=v1" for "--mount" flag: target is required$/],
    ['type=volume,target=/x,bogus=1', /unexpected key 'bogus' in 'bogus=1'/],
    ['type=volume,target=/x,loose', /invalid field 'loose' must be a key=value pair/],
    ['type=nfs,target=/x', /invalid mount type "nfs"/],
    ['type=tmpfs,target=/x,volume-nocopy', /cannot mix 'volume-\*' options with mount type 'tmpfs'/],
    ['type=volume,target=/x,bind-propagation=shared', /cannot mix 'bind-\*' options with mount type 'volume'/],
    ['type=bind,source=/a,target=/x,tmpfs-size=1m', /cannot mix 'tmpfs-\*' options with mount type 'bind'/],
    ['type=tmpfs,target=/x,tmpfs-size=lots', /invalid value for tmpfs-size: lots/],
    ['type=tmpfs,target=/x,tmpfs-mode=999', /invalid value for tmpfs-mode: 999/],
    ['type=volume,target=/x,readonly=maybe', /invalid value for readonly: maybe/],
    ['type=volume,target=/x,volume-driver=nfs', /volume driver "nfs" is not supported/],
    ['type=volume,target=/x,un"quoted', /bare " in non-quoted-field/],
    ['type=volume,target=/x,"unclosed', /extraneous or missing " in quoted-field/],
    ['"type=volume,target=/x', /extraneous or missing " in quoted-field/],
  ];
  for (const [flag, message] of bad) refuses(() => parseMountFlag(flag), message, flag);
});

test('--mount: what the engine refuses in a Mount', () => {
  const bad: [Parameters<typeof parseMountSpec>[0], RegExp][] = [
    [{ Type: 'bind', Source: 'rel', Target: '/x' }, /^invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute$/],
    [{ Type: 'bind', Target: '/x' }, /field Source must not be empty/],
    [{ Type: 'bind', Source: '/a', Target: '' }, /field Target must not be empty/],
    [{ Type: 'bind', Source: '/a', Target: '/x', BindOptions: { Propagation: 'sideways' } }, /invalid propagation mode: sideways/],
    [{ Type: 'bind', Source: '/a', Target: '/x', VolumeOptions: {} }, /field VolumeOptions must not be specified/],
    [{ Type: 'volume', Target: '/x', ReadOnly: true }, /must not set ReadOnly mode when using anonymous volumes/],
    [{ Type: 'volume', Source: 'bad name', Target: '/x' }, /includes invalid characters for a local volume name/],
    [{ Type: 'volume', Source: 'vol', Target: '/x', VolumeOptions: { Subpath: 'a' } }, /volume subpaths are not supported/],
    [{ Type: 'volume', Source: 'vol', Target: '/x', BindOptions: {} }, /field BindOptions must not be specified/],
    [{ Type: 'tmpfs', Source: 'x', Target: '/x' }, /field Source must not be specified/],
    [{ Type: 'tmpfs', Target: '/x', TmpfsOptions: { Mode: -1 } }, /invalid tmpfs mode/],
    [{ Type: 'image' as 'bind', Source: 'x', Target: '/x' }, /invalid mount config for type "image": mount type unknown/],
    [{ Type: 'volume', Target: '/' }, /destination can't be '\/'/],
  ];
  for (const [m, message] of bad) refuses(() => parseMountSpec(m), message, JSON.stringify(m));
  assert.deepEqual(parseMountSpec({ Type: 'tmpfs', Target: '/t', ReadOnly: true, TmpfsOptions: { SizeBytes: 3 * 2 ** 20, Mode: 0o700 } }),
    { type: 'tmpfs', target: '/t', options: ['ro', 'mode=700', 'size=3m'] });
  assert.deepEqual(parseMountSpec({ Type: 'bind', Source: '/a', Target: '/b', BindOptions: { NonRecursive: true, CreateMountpoint: true } }),
    { type: 'bind', source: '/a', target: '/b', readOnly: false, propagation: 'rprivate', recursive: false, createSource: true });
});

test('--tmpfs: a path and mount(8) options, checked before anything runs', () => {
  assert.deepEqual(parseTmpfs('/scratch/', 'size=64m,mode=1777,exec,uid=1000'), { type: 'tmpfs', target: '/scratch', options: ['size=64m', 'mode=1777', 'exec', 'uid=1000'] });
  assert.deepEqual(parseTmpfs('/s', ''), { type: 'tmpfs', target: '/s', options: [] });
  refuses(() => parseTmpfs('rel', ''), /^invalid tmpfs rel: invalid mount path: 'rel' mount path must be absolute$/);
  refuses(() => parseTmpfs('/', ''), /destination can't be '\/'/);
  refuses(() => parseTmpfs('/x', 'size=big'), /invalid tmpfs option "size=big" for \/x/);
  refuses(() => parseTmpfs('/x', 'mode=999'), /invalid tmpfs option "mode=999"/);
  refuses(() => parseTmpfs('/x', 'bogus'), /invalid tmpfs option "bogus"/);
});

test('one mount point per path, across -v, --mount and --tmpfs', () => {
  refuses(() => mountPointsOf({ Binds: ['/tmp:/x'], Tmpfs: { '/x': '' } }), /^Duplicate mount point: \/x$/);
  refuses(() => mountPointsOf({ Binds: ['v1:/x'], Mounts: [{ Type: 'volume', Source: 'v2', Target: '/x/' }] }), /Duplicate mount point: \/x/);
  refuses(() => parseBind('v:/x'), /"v" includes invalid characters/, 'a local volume name has two characters at least');
  assert.equal(mountPointsOf({ Binds: ['/a:/x', '/a:/y'] }).length, 2);
});

test("/proc and what lies inside it are refused in runc's words, from -v, --mount and --tmpfs alike", () => {
  refuses(() => mountPointsOf({ Binds: ['/tmp:/proc'] }), /^error mounting "\/tmp" to rootfs at "\/proc": "\/proc" cannot be mounted because it is not of type proc$/);
  refuses(() => mountPointsOf({ Binds: ['data:/proc/'] }), /"\/proc" cannot be mounted because it is not of type proc/);
  refuses(() => mountPointsOf({ Binds: ['/tmp:/proc/sys/kernel'] }), /error mounting "\/tmp" to rootfs at "\/proc\/sys\/kernel": "\/proc\/sys\/kernel" cannot be mounted because it is inside \/proc/);
  refuses(() => mountPointsOf({ Binds: ['/tmp:/x/../proc/sysrq-trigger'] }), /"\/proc\/sysrq-trigger" cannot be mounted because it is inside \/proc/);
  refuses(() => mountPointsOf({ Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/proc' }] }), /not of type proc/);
  refuses(() => mountPointsOf({ Mounts: [{ Type: 'volume', Target: '/proc/acpi' }] }), /error mounting "an anonymous volume" to rootfs at "\/proc\/acpi": .*inside \/proc/);
  refuses(() => mountPointsOf({ Tmpfs: { '/proc': '' } }), /error mounting "tmpfs" to rootfs at "\/proc": "\/proc" cannot be mounted because it is not of type proc/);
  refuses(() => mountPointsOf({ Tmpfs: { '/proc/self': 'size=1m' } }), /inside \/proc/);
  // As runc: the host's procfs may cover /proc, lxcfs's files may be bound, and /procx is not /proc.
  assert.equal(mountPointsOf({ Binds: ['/proc:/proc', '/tmp/meminfo:/proc/meminfo', '/tmp:/procx'] }).length, 3);
});

test('the flag group writes Binds, Mounts and Tmpfs, and leaves HostConfig alone without them', () => {
  const body: CreateBody = { Image: 'busybox' };
  storageFlags.apply({ volume: [], mount: [], tmpfs: [] }, body);
  assert.deepEqual(body, { Image: 'busybox' });
  storageFlags.apply({ volume: ['/h:/c:ro', 'vol:/d'], mount: ['type=tmpfs,dst=/t'], tmpfs: ['/run:size=1m,mode=700', '/x'] }, body);
  assert.deepEqual(body.HostConfig, {
    Binds: ['/h:/c:ro', 'vol:/d'], Mounts: [{ Type: 'tmpfs', Target: '/t' }], Tmpfs: { '/run': 'size=1m,mode=700', '/x': '' },
  });
  refuses(() => storageFlags.apply({ volume: ['./x:/y'], mount: [], tmpfs: [] }, { Image: 'b' }), /includes invalid characters/);
});
