// Exec handles: a process started inside a running container is a thing of
// its own, as containerd's exec processes are — an id, a pid, an exit code,
// and wait, kill and resize. Each exec has its own monitor (the helper),
// which writes its exit file; a small record beside it names the process,
// so that another process (the API server, `berth exec` from another
// terminal) can find and inspect it while it runs. Records live in the
// container's runtime state directory, under `execs/`, and go with it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { conflict, errnoCode, invalid, notFound } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { parseExitLine, processStartTime, type ExitInfo } from './state.js';

export const EXECS_DIR = 'execs';
const EXEC_ID_PATTERN = /^[0-9a-f]{64}$/;
/** A detached exec's wait reads its exit file: as often as this at most. */
const DETACHED_WAIT_MAX_MS = 100;

/** What the runtime keeps of one exec while its container runs. */
export interface ExecRecord {
  id: string;
  containerId: string;
  pid: number;
  pidStartTime: string;
  monitorPid: number;
  monitorStartTime: string;
  args: string[];
  user: { uid: number; gid: number };
  tty: boolean;
  created: string;
  /** The caller's own facts about the exec (the engine's Docker fields), kept as given. */
  annotations: Record<string, string>;
}

export interface ExecState extends ExecRecord {
  running: boolean;
  /** Once it has ended. */
  exit?: ExitInfo;
}

export function execPaths(stateDir: string, execId: string): { record: string; exit: string } {
  const dir = join(stateDir, EXECS_DIR);
  return { record: join(dir, `${execId}.json`), exit: join(dir, `${execId}.exit`) };
}

export function checkExecId(execId: string): void {
  if (!EXEC_ID_PATTERN.test(execId)) throw notFound('ExecNotFound', `No such exec instance: ${execId}`);
}

/** Where a new exec's record and exit file go; made before its monitor starts. */
export function makeExecsDir(stateDir: string): void {
  mkdirSync(join(stateDir, EXECS_DIR), { recursive: true, mode: 0o700 });
}

export function saveExecRecord(stateDir: string, record: ExecRecord): void {
  writeFileAtomic(execPaths(stateDir, record.id).record, JSON.stringify(record) + '\n', 0o600);
}

/** The exec's record and whether it still runs; undefined when there is none. */
export function execState(stateDir: string, execId: string): ExecState | undefined {
  checkExecId(execId);
  const paths = execPaths(stateDir, execId);
  let record: ExecRecord;
  try {
    record = JSON.parse(readFileSync(paths.record, 'utf8')) as ExecRecord;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const exit = readExit(paths.exit);
  // Its monitor writes the exit file before it goes: a monitor gone without
  // one (killed) leaves an exec that no longer runs, with no status known.
  const running = !exit && processStartTime(record.monitorPid) === record.monitorStartTime;
  return { ...record, running, ...(exit ? { exit } : {}) };
}

/** Exec ids recorded in a container's state directory. */
export function execIds(stateDir: string): string[] {
  try {
    return readdirSync(join(stateDir, EXECS_DIR)).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((n) => EXEC_ID_PATTERN.test(n));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

export function forgetExec(stateDir: string, execId: string): void {
  const paths = execPaths(stateDir, execId);
  rmSync(paths.record, { force: true });
  rmSync(paths.exit, { force: true });
}

function readExit(path: string): ExitInfo | undefined {
  try {
    return parseExitLine(readFileSync(path, 'utf8'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A started exec. `wait()` resolves with its exit (for an attached exec,
 * from its monitor's report channel; for a detached one, from its exit
 * file); it rejects when the program could not be started (not found, not
 * executable), as the container's own start would.
 */
export class ExecHandle {
  private exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<ExitInfo>;

  constructor(private readonly stateDir: string, readonly record: ExecRecord, exited: Promise<ExitInfo> | undefined) {
    this.exited = (exited ?? this.pollExit()).then((exit) => {
      this.exitInfo = exit;
      return exit;
    });
    this.exited.catch(() => { /* reported to whoever waits */ });
  }

  get id(): string {
    return this.record.id;
  }

  get pid(): number {
    return this.record.pid;
  }

  /** The exit status (128+n for signal n); undefined while it runs. */
  get exitCode(): number | undefined {
    return this.exitInfo?.status;
  }

  wait(): Promise<ExitInfo> {
    return this.exited;
  }

  state(): ExecState | undefined {
    return execState(this.stateDir, this.id);
  }

  /** Send a signal to the exec's process (not to the container's). */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    if (this.exitInfo || processStartTime(this.pid) !== this.record.pidStartTime) return;
    try {
      process.kill(this.pid, signal);
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw err;
    }
  }

  /**
   * Set the exec's terminal size. The pty's master is its monitor's; the
   * process holds the slave, and a size set there reaches the foreground
   * process group as SIGWINCH, as a terminal emulator's would.
   */
  async resize(rows: number, cols: number): Promise<void> {
    if (!this.record.tty) throw conflict('NoTerminal', `exec ${this.id} has no terminal to resize`);
    for (const n of [rows, cols]) if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw invalid('InvalidSize', `terminal size ${rows}x${cols} is out of range`);
    const pty = this.terminalPath();
    if (!pty) throw conflict('NotRunning', `exec ${this.id} is not running`);
    await promisify(execFile)('stty', ['-F', pty, 'rows', String(rows), 'cols', String(cols)]);
  }

  /** The exec's pty slave, as its process holds it. */
  private terminalPath(): string | undefined {
    if (processStartTime(this.pid) !== this.record.pidStartTime) return undefined;
    for (const fd of [0, 1, 2]) {
      const path = `/proc/${this.pid}/fd/${fd}`;
      try {
        if (readlinkSync(path).startsWith('/dev/pts/')) return path;
      } catch { /* closed, or gone */ }
    }
    return undefined;
  }

  private async pollExit(): Promise<ExitInfo> {
    const exitFile = execPaths(this.stateDir, this.id).exit;
    for (let delay = 5; ; delay = Math.min(delay * 2, DETACHED_WAIT_MAX_MS)) {
      const exit = readExit(exitFile);
      if (exit) return exit;
      // Gone without an exit file: its monitor was killed, or the container
      // was removed with its state.
      if (processStartTime(this.record.monitorPid) !== this.record.monitorStartTime && !existsSync(exitFile)) {
        return readExit(exitFile) ?? { status: 137, signal: 9, finishedAt: new Date().toISOString() };
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
