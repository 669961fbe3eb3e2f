// Attaching to a running container, as `run`, `start -a` and `attach` do and
// as the API's attach endpoint will: a session on the container monitor's
// attach socket (its output as it happens, stdin and resizes the other way),
// and the signals an attached client passes on (Docker's --sig-proxy).
import type { Readable, Writable } from 'node:stream';
import { attach, type AttachSession } from '../runtime/attach.js';
import type { ExitInfo } from '../runtime/state.js';
import type { ContainerInfo } from './container-info.js';
import type { Engine } from './engine.js';

export type { AttachSession, ExitInfo };

export interface AttachStreams {
  /** Fed to the container's stdin (kept open by the monitor only with OpenStdin). */
  stdin?: Readable;
  stdout: Writable;
  /** Gets nothing with a terminal: a terminal has one output. */
  stderr: Writable;
}

/** Connect to a container's monitor; resolves once connected, so that nothing written after is missed. */
export function attachContainer(engine: Engine, info: ContainerInfo, streams: AttachStreams): Promise<AttachSession> {
  return attach(engine.attachSocket(info.id), { ...streams, tty: info.body.Tty ?? false });
}

/**
 * Pass a signal to a container's process as it is, with none of `kill`'s
 * rules (an attached client's ^C without a terminal, Docker's --sig-proxy).
 */
export function forwardSignal(engine: Engine, info: ContainerInfo, signal: NodeJS.Signals | number): void {
  engine.runtime.kill(info.id, signal);
}
