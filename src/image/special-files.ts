// What Node's fs cannot do: create device nodes and FIFOs (mknod), and read or
// write extended attributes (getxattr/setxattr). Unpacking a layer needs both —
// overlayfs stores a deleted file as a character device 0/0 (a whiteout) and a
// directory that hides its lower contents with the xattr
// trusted.overlay.opaque=y — and so does turning a container's upper dir back
// into a layer tar.
//
// Rather than one spawned `mknod` per node, each batch is one python3 process
// (python3 is on every machine berth is built for; its os module wraps the
// *at() system calls). The batch is plain data on stdin. The script walks every
// path from the batch's root one component at a time with O_NOFOLLOW, so a
// symlink inside the tree can never redirect a write outside it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { systemError } from '../util/errors.js';

/** A device node or FIFO to create in place of the empty placeholder file at `path`. */
export interface NodeOp {
  path: string;
  kind: 'char' | 'block' | 'fifo';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export interface LinkOp {
  /** The hard link to make (an empty placeholder file is there now). */
  path: string;
  /** What it links to, made earlier in the same batch. */
  target: string;
}

export interface XattrOp {
  path: string;
  name: string;
  value: Buffer;
}

/** Paths are relative to `root` ('' is the root itself), already checked by the caller. */
export interface SpecialOps {
  root: string;
  nodes: NodeOp[];
  /** Overlay whiteouts (character device 0/0) in place of placeholder files. */
  whiteouts: string[];
  links: LinkOp[];
  xattrs: XattrOp[];
  /** Directories to mark trusted.overlay.opaque=y. */
  opaque: string[];
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

const APPLY_SCRIPT = String.raw`
import base64, json, os, stat, sys
req = json.load(sys.stdin)
os.umask(0)
root = os.open(req['root'], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
warnings = []

def walk(path):
    """(fd of the parent directory, last name); no symlink is followed."""
    parts = path.split('/')
    fd = os.dup(root)
    for part in parts[:-1]:
        nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        os.close(fd)
        fd = nfd
    return fd, parts[-1]

def opendir(path):
    if path == '':
        return os.dup(root)
    fd, name = walk(path)
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
    finally:
        os.close(fd)

def fail(what, path, err):
    print(json.dumps({'error': '%s "%s": %s' % (what, path, err.strerror or err), 'warnings': warnings}))
    sys.exit(1)

skipped = set()
for n in req['nodes']:
    p = n['path']
    try:
        fd, name = walk(p)
    except OSError as e:
        fail('cannot reach', p, e)
    try:
        os.unlink(name, dir_fd=fd)
        mode = n['mode'] & 0o7777
        try:
            if n['kind'] == 'fifo':
                os.mkfifo(name, mode, dir_fd=fd)
            else:
                kind = stat.S_IFCHR if n['kind'] == 'char' else stat.S_IFBLK
                os.mknod(name, kind | mode, os.makedev(n['major'], n['minor']), dir_fd=fd)
        except PermissionError as e:
            # In a user namespace the kernel refuses device nodes: skip, as Docker does.
            warnings.append('device node "%s" skipped: %s' % (p, e.strerror))
            skipped.add(p)
            continue
        os.chown(name, n['uid'], n['gid'], dir_fd=fd, follow_symlinks=False)
        os.utime(name, ns=(n['mtime'] * 10**9, n['mtime'] * 10**9), dir_fd=fd, follow_symlinks=False)
    except OSError as e:
        fail('cannot create node', p, e)
    finally:
        os.close(fd)

for p in req['whiteouts']:
    try:
        fd, name = walk(p)
        try:
            os.unlink(name, dir_fd=fd)
            os.mknod(name, stat.S_IFCHR, os.makedev(0, 0), dir_fd=fd)
        finally:
            os.close(fd)
    except OSError as e:
        fail('cannot create whiteout', p, e)

for l in req['links']:
    p, t = l['path'], l['target']
    try:
        fd, name = walk(p)
        tfd, tname = walk(t)
        try:
            os.unlink(name, dir_fd=fd)
            if t in skipped:
                warnings.append('hard link "%s" skipped: its target "%s" was skipped' % (p, t))
                continue
            os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(fd)
            os.close(tfd)
    except OSError as e:
        fail('cannot create hard link', p, e)

for x in req['xattrs']:
    p = x['path']
    if p in skipped:
        continue
    try:
        fd, name = walk(p)
        try:
            os.setxattr('/proc/self/fd/%d/%s' % (fd, name), x['name'], base64.b64decode(x['value']), follow_symlinks=False)
        finally:
            os.close(fd)
    except OSError as e:
        warnings.append('extended attribute %s on "%s" skipped: %s' % (x['name'], p, e.strerror))

for p in req['opaque']:
    try:
        fd = opendir(p)
        try:
            os.setxattr(fd, '${OPAQUE_XATTR}', b'y')
        finally:
            os.close(fd)
    except OSError as e:
        fail('cannot mark opaque directory', p or '/', e)

print(json.dumps({'error': None, 'warnings': warnings}))
`;

const SCAN_SCRIPT = String.raw`
import base64, json, os, sys
root = sys.argv[1]
keep = tuple(sys.argv[2:])
opaque, xattrs = [], {}
def kept(p, path):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return
    for x in names:
        if x.startswith(keep):
            try:
                xattrs.setdefault(path, {})[x] = base64.b64encode(os.getxattr(p, x, follow_symlinks=False)).decode()
            except OSError:
                pass
# The root itself under '' (a single file packed alone has no tree to walk).
kept(root, '')
tree = os.fwalk(root, follow_symlinks=False) if os.path.isdir(root) and not os.path.islink(root) else []
for dirpath, dirnames, filenames, dirfd in tree:
    rel = os.path.relpath(dirpath, root)
    rel = '' if rel == '.' else rel
    for name in dirnames + filenames:
        p = '/proc/self/fd/%d/%s' % (dirfd, name)
        path = name if rel == '' else rel + '/' + name
        kept(p, path)
        try:
            if os.getxattr(p, '${OPAQUE_XATTR}', follow_symlinks=False) == b'y':
                opaque.append(path)
        except OSError:
            pass
print(json.dumps({'opaque': opaque, 'xattrs': xattrs}))
`;

function python(): string {
  // The system interpreter, not whatever a version manager's shim resolves to.
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function run(script: string, args: string[], input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python(), ['-I', '-S', '-c', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (err) => reject(systemError('PythonMissing', `python3 is needed to create device nodes, whiteouts and extended attributes, and it could not be started: ${err.message}`, err)));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.on('error', () => { /* the exit status tells */ });
    child.stdin.end(input);
  });
}

function isEmpty(ops: SpecialOps): boolean {
  return ops.nodes.length + ops.whiteouts.length + ops.links.length + ops.xattrs.length + ops.opaque.length === 0;
}

/**
 * Carry out one batch: nodes, then whiteouts, then hard links (which may point
 * at the nodes), then xattrs, then opaque markers. Returns the warnings (device
 * nodes the kernel refused, xattrs that could not be set); anything else that
 * fails throws, naming the path.
 */
export async function applySpecialOps(ops: SpecialOps): Promise<string[]> {
  if (isEmpty(ops)) return [];
  const input = JSON.stringify({
    root: ops.root,
    nodes: ops.nodes,
    whiteouts: ops.whiteouts,
    links: ops.links,
    xattrs: ops.xattrs.map((x) => ({ path: x.path, name: x.name, value: x.value.toString('base64') })),
    opaque: ops.opaque,
  });
  const r = await run(APPLY_SCRIPT, [], input);
  let out: { error: string | null; warnings: string[] } | undefined;
  try {
    out = JSON.parse(r.stdout) as { error: string | null; warnings: string[] };
  } catch {
    out = undefined;
  }
  if (!out) throw systemError('SpecialFilesFailed', `creating device nodes, whiteouts and xattrs failed (python3 exited ${r.status}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  if (out.error !== null) throw systemError('SpecialFilesFailed', out.error);
  return out.warnings;
}

export interface ScannedXattrs {
  /** Directories (relative paths) marked trusted.overlay.opaque=y. */
  opaque: string[];
  /** Per relative path ('' for `root` itself), the xattrs whose names start with one of the prefixes asked for. */
  xattrs: Map<string, Map<string, Buffer>>;
}

/** What a layer carries: file capabilities, as Docker's archives do, and the user namespace, which is the owner's own data. */
export const LAYER_XATTRS = ['security.capability', 'user.'] as const;

/** Read the opaque markers and the xattrs named by `keep` (prefixes) of `root` and everything under it, without following symlinks. */
export async function scanXattrs(root: string, keep: readonly string[] = LAYER_XATTRS): Promise<ScannedXattrs> {
  const r = await run(SCAN_SCRIPT, [root, ...keep], '');
  if (r.status !== 0) throw systemError('XattrScanFailed', `reading extended attributes under ${root} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const out = JSON.parse(r.stdout) as { opaque: string[]; xattrs: Record<string, Record<string, string>> };
  const xattrs = new Map<string, Map<string, Buffer>>();
  for (const [path, names] of Object.entries(out.xattrs)) {
    xattrs.set(path, new Map(Object.entries(names).map(([k, v]) => [k, Buffer.from(v, 'base64')])));
  }
  return { opaque: out.opaque, xattrs };
}
