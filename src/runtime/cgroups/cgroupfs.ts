// The cgroup filesystem as a kernel interface. A cgroup is a directory: mkdir
// makes one and the kernel fills it with interface files; rmdir removes it and
// is refused (EBUSY) while processes remain, or (ENOTEMPTY) while child
// cgroups remain; the interface files do not count. Each write() to an
// interface file is one request the kernel accepts or refuses with an errno
// (EINVAL for a value out of range, EBUSY when the current state forbids it),
// so files are opened without O_CREAT (a missing file is a missing kernel
// feature, never something to create) and written in one call. Every refusal
// becomes one BerthError naming the OCI field, the file and the errno.
import {
  closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { channel } from 'node:diagnostics_channel';
import { errnoCode, systemError } from '../../util/errors.js';
import { debug } from '../../util/debug.js';

/** Every write to a cgroup file is published here as { path, value, field } (tests and tracing). */
export const cgroupWriteChannel = channel('berth:cgroup:write');

export interface CgroupWriteEvent {
  path: string;
  value: string;
  field: string;
}

export function writeCgroupFile(path: string, value: string, field: string): void {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errnoCode(err) ?? 'unknown error';
    if (code === 'ENOENT') throw systemError('CGROUP_FILE_MISSING', `${field}: ${path} does not exist`, err);
    throw systemError('CGROUP_KERNEL_REFUSED', `${field}: kernel refused ${JSON.stringify(value)} for ${path} (${code})`, err);
  }
  debug('cgroup write %s=%j (%s)', path, value, field);
  if (cgroupWriteChannel.hasSubscribers) cgroupWriteChannel.publish({ path, value, field } satisfies CgroupWriteEvent);
}

/** The errno behind an error from this file ("EBUSY"), for messages. */
export function causeErrno(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  return errnoCode(cause) ?? errnoCode(err) ?? 'unknown error';
}

/** File contents, or undefined when the file does not exist. */
export function readCgroupFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw systemError('CGROUP_READ', `cannot read ${path} (${errnoCode(err) ?? String(err)})`, err);
  }
}

// Kernels print "unlimited" as the largest page-aligned int64 (v1) or as "max" (v2).
const UNLIMITED_FROM = 2 ** 62;

/** A single number; "max", absent, or an "unlimited" value read as undefined. */
export function readLimit(path: string): number | undefined {
  const text = readCgroupFile(path)?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const n = Number(text.split(/\s+/)[0]);
  return Number.isFinite(n) && n < UNLIMITED_FROM ? n : undefined;
}

export function readNumber(path: string): number | undefined {
  const text = readCgroupFile(path)?.trim();
  if (text === undefined || text === '') return undefined;
  const n = Number(text.split(/\s+/)[0]);
  return Number.isFinite(n) ? n : undefined;
}

/** A flat-keyed file ("key value" per line: cpu.stat, memory.events, memory.oom_control). */
export function readKeyed(path: string): Map<string, number> | undefined {
  const text = readCgroupFile(path);
  if (text === undefined) return undefined;
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) out.set(key, Number(value));
  }
  return out;
}

export function readPids(dir: string): number[] {
  const text = readCgroupFile(join(dir, 'cgroup.procs')) ?? '';
  return text.split('\n').filter((l) => l.trim() !== '').map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** Pids of `dir` and of every cgroup below it, without duplicates. */
export function readPidsRecursive(dir: string): number[] {
  const seen = new Set<number>(readPids(dir));
  for (const child of childCgroups(dir)) for (const p of readPidsRecursive(child)) seen.add(p);
  return [...seen];
}

/** mkdir each missing component of `rel` below `mount`; returns the directories it made, outermost first. */
export function makeCgroupDirs(mount: string, rel: string): string[] {
  const made: string[] = [];
  // A concurrent delete may remove an empty parent (the shared /berth) between
  // our mkdirs: ENOENT then means "start again from the top", a bounded few times.
  for (let attempt = 0; ; attempt++) {
    let dir = mount;
    try {
      for (const part of rel.split('/').filter((p) => p !== '')) {
        dir = join(dir, part);
        try {
          mkdirSync(dir);
          made.push(dir);
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
        }
      }
      return made;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' && attempt < 5) continue;
      throw systemError('CGROUP_MKDIR', `cannot create cgroup ${dir} (${errnoCode(err) ?? String(err)})`, err);
    }
  }
}

/**
 * The default parent of berth's cgroups, /berth, is removed with its last
 * container, so that nothing of berth stays on the host. A parent the user
 * named in cgroupsPath is theirs and stays.
 */
export function removeDefaultParent(mount: string, cgroupsPath: string, emulated: boolean): void {
  const parts = cgroupsPath.split('/').filter((p) => p !== '');
  if (parts.length === 2 && parts[0] === 'berth') removeIfUnused(join(mount, 'berth'), emulated);
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll `done` with a growing pause until it holds or `timeoutMs` passes. */
export function waitUntil(done: () => boolean, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  let pause = 1;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    sleepSync(pause);
    pause = Math.min(pause * 2, 50);
  }
}

// A process that was just killed leaves its cgroup only once it has exited,
// which takes a moment after the signal: retry rmdir for this long.
const REMOVE_TIMEOUT_MS = 5000;

/**
 * Remove a cgroup and every cgroup below it, deepest first, retrying while
 * processes drain. Absent is success. `emulated`: a test layout of plain
 * directories, whose "interface files" are ordinary files that rmdir would trip
 * over, while the kernel removes its own with the directory; only there are the
 * files deleted first.
 */
export function removeCgroup(dir: string, emulated: boolean): void {
  if (!existsSync(dir)) return;
  for (const child of childCgroups(dir)) removeCgroup(child, emulated);
  if (emulated) removePlainFiles(dir);
  let lastErr: unknown;
  const gone = waitUntil(() => {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return true;
      lastErr = err;
      // EBUSY: processes are still in it. ENOTEMPTY: a child cgroup appeared meanwhile.
      const code = errnoCode(err);
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') {
        throw systemError('CGROUP_RMDIR', `cannot remove cgroup ${dir} (${code ?? String(err)})`, err);
      }
      if (code === 'ENOTEMPTY') for (const child of childCgroups(dir)) removeCgroup(child, emulated);
      return false;
    }
  }, REMOVE_TIMEOUT_MS);
  if (!gone) {
    const left = readPidsRecursive(dir);
    throw systemError(
      'CGROUP_BUSY',
      `cannot remove cgroup ${dir} (${errnoCode(lastErr) ?? 'busy'}): ` +
        (left.length > 0 ? `processes ${left.join(', ')} are still in it; kill them first` : 'the kernel still holds it'),
      lastErr,
    );
  }
}

/** rmdir an ancestor this manager made, if nothing else lives there now; never an error. */
export function removeIfUnused(dir: string, emulated: boolean): void {
  if (!existsSync(dir) || childCgroups(dir).length > 0) return;
  if (emulated) removePlainFiles(dir);
  try {
    rmdirSync(dir);
  } catch {
    // Another container made a cgroup here meanwhile, or joined it: it stays.
  }
}

function removePlainFiles(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isFile()) unlinkSync(join(dir, e.name));
}

export function signalPids(pids: readonly number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      // ESRCH: it exited between listing and signalling, which is what we wanted.
      if (errnoCode(err) !== 'ESRCH') {
        throw systemError('CGROUP_KILL', `cannot signal process ${pid} with ${String(signal)} (${errnoCode(err) ?? String(err)})`, err);
      }
    }
  }
}

/**
 * One intended write, as plain data: the planners turn linux.resources into a
 * list of these, create/update apply them in order, and describe() prints them.
 * `choices` lists alternative files for the same setting (blkio.weight or,
 * under the BFQ scheduler, blkio.bfq.weight); the first that exists is used.
 */
export interface CgroupWrite {
  /** v1: the controller whose hierarchy holds the file. v2: the controller it belongs to ("cgroup" for core files). */
  controller: string;
  field: string;
  choices: readonly { file: string; value: string }[];
  /** When no choice exists: fail, warn (the feature is optional in the kernel) or skip silently. */
  ifMissing: 'error' | 'skip' | { warn: string };
}

export function write(controller: string, file: string, value: string, field: string): CgroupWrite {
  return { controller, field, choices: [{ file, value }], ifMissing: 'error' };
}

/** Apply writes in order; files missing on this kernel add to `warnings` or fail, as each write says. */
export function applyWrites(writes: readonly CgroupWrite[], dirOf: (controller: string) => string, warnings: string[]): void {
  for (const w of writes) {
    const dir = dirOf(w.controller);
    const choice = w.choices.find((c) => existsSync(join(dir, c.file)));
    if (choice === undefined) {
      if (w.ifMissing === 'skip') continue;
      if (w.ifMissing !== 'error') {
        addWarning(warnings, w.ifMissing.warn);
        continue;
      }
      const names = w.choices.map((c) => c.file).join(' or ');
      throw systemError('CGROUP_FILE_MISSING', `${w.field}: ${dir} has no ${names}; this kernel lacks the feature`);
    }
    writeCgroupFile(join(dir, choice.file), choice.value, w.field);
  }
}

export function addWarning(warnings: string[], message: string): void {
  if (!warnings.includes(message)) {
    warnings.push(message);
    debug('cgroup warning: %s', message);
  }
}

/** "file=value" for describe(); the choice that exists in `dir`, or all of them joined by "|" before the cgroup exists. */
export function formatWrite(w: CgroupWrite, dir: string): string {
  const present = existsSync(dir) ? w.choices.find((c) => existsSync(join(dir, c.file))) : undefined;
  const shown = present !== undefined ? [present] : w.choices;
  return shown.map((c) => `${c.file}=${/^[\w.:*/-]+$/.test(c.value) ? c.value : JSON.stringify(c.value)}`).join('|');
}

/** The object without its undefined fields: limits() leaves out what is unlimited rather than spelling it undefined. */
export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
