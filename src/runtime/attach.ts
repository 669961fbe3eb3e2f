// A client of a container monitor's attach socket (docs/plan-format.md,
// MONITOR_ATTACH_SOCKET): the container's output as it happens, in Docker's
// stdcopy frames, and its stdin, resizes and stdin's end going the other way.
// The last frame (stream 3) says how the container ended.
import { createConnection, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { conflict, errnoCode, notFound, systemError } from '../util/errors.js';
import { parseExitLine, type ExitInfo } from './state.js';

export interface AttachOptions {
  /** Fed to the container's stdin (which the monitor keeps open only with openStdin). */
  stdin?: Readable;
  stdout: Writable;
  /** Gets nothing with a terminal: a terminal has one output. */
  stderr: Writable;
  tty: boolean;
  /** Typed on stdin, these detach the client and leave the container running (default ctrl-p ctrl-q). */
  detachKeys?: Buffer;
}

export interface AttachSession {
  /** The container's terminal size (a no-op without a terminal). */
  resize(rows: number, cols: number): void;
  /** This client has no more stdin: the container's stdin ends if it was opened with stdinOnce. */
  closeStdin(): void;
  /** Leave the container running and go. */
  close(): void;
  /** How the container ended; 'detached' if this client left first; undefined if the monitor went away without saying. */
  done: Promise<ExitInfo | 'detached' | undefined>;
}

export const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]); // ctrl-p ctrl-q

const enum ClientFrame { Stdin = 0, CloseStdin = 1, Resize = 2 }
const EXIT_STREAM = 3;

function clientFrame(type: ClientFrame, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** Connect to the monitor; resolves once connected, so that nothing the container writes after is missed. */
export async function attach(socketPath: string, opts: AttachOptions): Promise<AttachSession> {
  const socket = await connect(socketPath);
  const detachKeys = opts.detachKeys ?? DEFAULT_DETACH_KEYS;
  let exit: ExitInfo | undefined;
  let detached = false;
  let stdinClosed = false;

  const send = (frame: Buffer) => {
    if (socket.destroyed || !socket.writable) return;
    // The monitor takes stdin only as fast as the container reads it.
    if (!socket.write(frame) && opts.stdin) {
      opts.stdin.pause();
      socket.once('drain', () => opts.stdin?.resume());
    }
  };
  const closeStdin = () => {
    if (stdinClosed) return;
    stdinClosed = true;
    send(clientFrame(ClientFrame.CloseStdin));
  };
  const detach = () => {
    detached = true;
    socket.destroy();
  };

  const done = new Promise<ExitInfo | 'detached' | undefined>((resolve) => {
    socket.once('close', () => {
      opts.stdin?.off('data', onStdin);
      opts.stdin?.off('end', closeStdin);
      resolve(exit ?? (detached ? 'detached' : undefined));
    });
  });

  // Output: [stream, 0, 0, 0, len:u32 BE] + payload.
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 8) {
      const len = buffered.readUInt32BE(4);
      if (buffered.length < 8 + len) break;
      const stream = buffered[0];
      const payload = buffered.subarray(8, 8 + len);
      buffered = buffered.subarray(8 + len);
      if (stream === EXIT_STREAM) {
        exit = parseExitLine(payload.toString('utf8'));
        continue;
      }
      const out = stream === 2 && !opts.tty ? opts.stderr : opts.stdout;
      // A slow reader slows the socket, and so the monitor: no unbounded buffer here.
      if (!out.write(payload)) {
        socket.pause();
        out.once('drain', () => socket.resume());
      }
    }
  });
  socket.on('error', () => { /* the close that follows settles done */ });

  // Stdin: detach keys are held back until it is clear they are not the sequence.
  let matched = 0;
  const onStdin = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const out: number[] = [];
    for (const byte of bytes) {
      if (detachKeys.length && byte === detachKeys[matched]) {
        if (++matched === detachKeys.length) {
          if (out.length) send(clientFrame(ClientFrame.Stdin, Buffer.from(out)));
          detach();
          return;
        }
        continue;
      }
      out.push(...detachKeys.subarray(0, matched));
      matched = 0;
      if (detachKeys.length && byte === detachKeys[0]) matched = 1;
      else out.push(byte);
    }
    if (out.length) send(clientFrame(ClientFrame.Stdin, Buffer.from(out)));
  };
  if (opts.stdin) {
    opts.stdin.on('data', onStdin);
    opts.stdin.once('end', closeStdin);
  }

  return {
    resize(rows: number, cols: number) {
      const payload = Buffer.alloc(4);
      payload.writeUInt16BE(Math.max(0, Math.min(0xffff, rows)), 0);
      payload.writeUInt16BE(Math.max(0, Math.min(0xffff, cols)), 2);
      send(clientFrame(ClientFrame.Resize, payload));
    },
    closeStdin,
    close: detach,
    done,
  };
}

function connect(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) => {
      const code = errnoCode(err);
      if (code === 'ENOENT') reject(notFound('AttachSocketMissing', `cannot attach: ${socketPath} does not exist (the container is not running)`));
      else if (code === 'ECONNREFUSED') reject(conflict('AttachRefused', `cannot attach: nothing listens on ${socketPath} (the container's monitor is gone)`));
      else reject(systemError('AttachFailed', `cannot attach to ${socketPath}: ${err.message}`, err));
    };
    socket.once('error', onError);
  });
}
