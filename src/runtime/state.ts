// A container's lifecycle as the OCI runtime spec defines it: creating →
// created → running → stopped (plus paused, through the freezer). The status
// is never stored: it is derived from what the kernel and the monitor show
// (is the process alive, has `start` happened, did the monitor write an exit
// file), so a crashed command can never leave a status that lies.
import { readFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { conflict, notFound, invalid, errnoCode } from '../util/errors.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What is written once at create time; everything else is derived. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  ociVersion: string;
  created: string;
  pid: number;
  /** Start time of pid in clock ticks since boot (/proc/<pid>/stat field 22): guards against pid reuse. */
  pidStartTime: string;
  monitorPid: number;
  monitorStartTime: string;
  cgroupsPath: string;
  /** For a relative cgroupsPath: the runtime's own cgroup per hierarchy at create (v1 controller or "" for v2 → path), which it is relative to. */
  cgroupParents?: Record<string, string>;
  cgroupVersion: 1 | 2;
  annotations: Record<string, string>;
}

export interface ExitInfo {
  /** The exit code, or 128+n for signal n. */
  status: number;
  signal?: number;
  /** When the monitor saw the process end (ISO 8601). */
  finishedAt: string;
}

export const RECORD_FILE = 'state.json';
export const EXIT_FILE = 'exit';
export const START_FIFO = 'start.fifo';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw invalid('InvalidId', `invalid container id "${id}": use letters, digits, '_', '.' and '-' (at most 128)`);
}

export class StateDir {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Reserve the id; fails if a container of that id exists. */
  reserve(id: string): string {
    checkId(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw conflict('ContainerExists', `container "${id}" already exists`);
      throw err;
    }
    return dir;
  }

  save(record: ContainerRecord): void {
    writeFileAtomic(join(this.dir(record.id), RECORD_FILE), JSON.stringify(record, null, 2) + '\n', 0o600);
  }

  load(id: string): ContainerRecord {
    checkId(id);
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), RECORD_FILE), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('ContainerNotFound', `container "${id}" does not exist`);
      throw err;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  ids(): string[] {
    try {
      return readdirSync(this.root).filter((n) => ID_PATTERN.test(n) && existsSync(join(this.root, n, RECORD_FILE)));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  exitInfo(id: string): ExitInfo | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), EXIT_FILE), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    return parseExitLine(text);
  }
}

/** "exited 3 <ns>" or "signaled 9 <ns>", as the monitor writes it. */
export function parseExitLine(text: string): ExitInfo | undefined {
  const m = /^(exited|signaled) (\d+)(?: (\d+))?/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[2]);
  const finishedAt = m[3] ? new Date(Number(BigInt(m[3]) / 1_000_000n)).toISOString() : new Date().toISOString();
  return m[1] === 'exited' ? { status: n, finishedAt } : { status: 128 + n, signal: n, finishedAt };
}

/** Field 22 of /proc/<pid>/stat, or undefined if the process is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: skip past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie has already exited
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(record: Pick<ContainerRecord, 'pid' | 'pidStartTime'>): boolean {
  return record.pid > 0 && processStartTime(record.pid) === record.pidStartTime;
}

// Guards: which verbs each status allows (runtime-spec "Operations").
export const canStart = (s: Status) => s === 'created';
export const canKill = (s: Status) => s === 'created' || s === 'running' || s === 'paused';
export const canDelete = (s: Status) => s === 'stopped';
export const canPause = (s: Status) => s === 'running';
export const canResume = (s: Status) => s === 'paused';

export function guard(allowed: boolean, verb: string, id: string, status: Status): void {
  if (!allowed) throw conflict('InvalidState', `cannot ${verb} container "${id}": it is ${status}`);
}
