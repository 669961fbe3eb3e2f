// This terminal (or these pipes) attached to a container's monitor, for
// `run`, `start -a` and `attach`: raw mode and window size on a terminal,
// stdin passed on, signals proxied to the container as Docker's --sig-proxy.
import { attachContainer, forwardSignal, type AttachSession, type ContainerInfo, type Engine, type ExitInfo } from '../../engine/index.js';

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export interface Attached {
  session: AttachSession;
  /** The container's end, or 'detached' (ctrl-p ctrl-q), with this terminal restored. */
  done: Promise<ExitInfo | 'detached' | undefined>;
}

export async function attachTerminal(engine: Engine, info: ContainerInfo, opts: { stdin: boolean; sigProxy: boolean }): Promise<Attached> {
  const tty = info.body.Tty ?? false;
  const stdin = opts.stdin ? process.stdin : undefined;
  const session = await attachContainer(engine, info, { ...(stdin ? { stdin } : {}), stdout: process.stdout, stderr: process.stderr });
  const raw = tty && stdin !== undefined && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  const resize = () => {
    if (process.stdout.isTTY) session.resize(process.stdout.rows, process.stdout.columns);
  };
  if (tty) {
    resize();
    process.on('SIGWINCH', resize);
  }
  // With a terminal, ^C reaches the container as a byte; without one, as a signal.
  const proxy = (sig: NodeJS.Signals) => {
    try {
      forwardSignal(engine, info, sig);
    } catch { /* it ended meanwhile */ }
  };
  const proxied = opts.sigProxy && !raw ? PROXIED : [];
  for (const s of proxied) process.on(s, proxy);
  const done = session.done.finally(() => {
    if (raw) process.stdin.setRawMode(false);
    process.off('SIGWINCH', resize);
    for (const s of proxied) process.off(s, proxy);
    // stdin is not read any more: let the process end.
    process.stdin.pause();
    process.stdin.unref?.();
  });
  return { session, done };
}
