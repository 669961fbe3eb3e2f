// Execs as Docker shows them (`GET /exec/{id}/json`, ExecInspect). The
// runtime keeps each exec's record while its container runs; the Docker
// fields it has no use for ride along in the record's annotations.
import { notFound } from '../util/errors.js';
import type { ExecState } from '../runtime/exec.js';

/** Docker's ExecInspect (api/types/container.ExecInspect plus the daemon's ProcessConfig). */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
}

/** What the engine says of an exec when it starts it: what ExecInspect shows beyond the runtime's record. */
export interface ExecFacts {
  openStdin: boolean;
  openStdout: boolean;
  openStderr: boolean;
  privileged: boolean;
  /** The user as it was asked for ("", "1000", "nobody:nogroup"). */
  user: string;
  detachKeys: string;
}

export function execAnnotations(facts: ExecFacts): Record<string, string> {
  return {
    'berth.exec.openStdin': String(facts.openStdin),
    'berth.exec.openStdout': String(facts.openStdout),
    'berth.exec.openStderr': String(facts.openStderr),
    'berth.exec.privileged': String(facts.privileged),
    'berth.exec.user': facts.user,
    'berth.exec.detachKeys': facts.detachKeys,
  };
}

export function execInspect(state: ExecState | undefined, execId: string): ExecInspect {
  if (!state) throw notFound('ExecNotFound', `No such exec instance: ${execId}`);
  const a = state.annotations;
  return {
    ID: state.id,
    Running: state.running,
    // Docker: null until the process has ended.
    ExitCode: state.running ? null : (state.exit?.status ?? null),
    ProcessConfig: { tty: state.tty, entrypoint: state.args[0] ?? '', arguments: state.args.slice(1), privileged: a['berth.exec.privileged'] === 'true', user: a['berth.exec.user'] ?? '' },
    OpenStdin: a['berth.exec.openStdin'] === 'true',
    OpenStderr: a['berth.exec.openStderr'] === 'true',
    OpenStdout: a['berth.exec.openStdout'] === 'true',
    CanRemove: false,
    ContainerID: state.containerId,
    DetachKeys: a['berth.exec.detachKeys'] ?? '',
    Pid: state.running ? state.pid : 0,
  };
}
