// Pull and push progress as Docker shows it: one line per layer, redrawn in
// place on a terminal (cli-progress), plain lines otherwise.
import cliProgress from 'cli-progress';
import type { PullProgress, PushProgress } from '../../engine/index.js';
import { humanSize } from '../format.js';

export interface ProgressView {
  update(p: PullProgress | PushProgress): void;
  stop(): void;
}

export function progressView(stream: NodeJS.WriteStream, quiet: boolean): ProgressView {
  if (quiet) return { update: () => {}, stop: () => {} };
  if (!stream.isTTY) {
    const last = new Map<string, string>();
    return {
      update: (p) => {
        if (p.status === 'Downloading' || p.status === 'Pushing') return; // no byte counts without a terminal
        if (last.get(p.id) === p.status) return;
        last.set(p.id, p.status);
        stream.write(`${p.id}: ${p.status}\n`);
      },
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar({
    stream,
    format: '{id}: {status} {bar} {bytes}',
    barCompleteChar: '=',
    barIncompleteChar: ' ',
    barsize: 40,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    autopadding: true,
  }, cliProgress.Presets.legacy);
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    update: (p) => {
      let bar = bars.get(p.id);
      const total = p.total ?? 1;
      const payload = { id: p.id, status: p.status.padEnd(18), bytes: p.current !== undefined && p.total ? `${humanSize(p.current)}/${humanSize(p.total)}` : '' };
      if (!bar) {
        bar = multi.create(total, 0, payload);
        bars.set(p.id, bar);
      }
      if (p.total) bar.setTotal(p.total);
      const done = ['Pull complete', 'Already exists', 'Download complete', 'Pushed', 'Layer already exists', 'Mounted'].includes(p.status);
      bar.update(done ? bar.getTotal() : (p.current ?? 0), payload);
    },
    stop: () => multi.stop(),
  };
}
