// `ps` as Docker's daemon answers it: which containers a listing shows
// (running ones, or all; Docker's filters; the last n), each with Docker's
// STATUS text and, when asked, its sizes. The CLI and the API format the same
// list.
import { execFileSync } from 'node:child_process';
import { invalid } from '../util/errors.js';
import { ago, humanDuration } from '../util/duration.js';
import { containerPaths, type ContainerInfo } from './container-info.js';
import { imageSize } from './images.js';
import type { Engine } from './engine.js';
import { networkNameOf, portsText, publishedPorts } from './network.js';

export interface ContainerSizes {
  /** Bytes the container wrote (its writable layer). */
  rw: number;
  /** Its whole root filesystem: the writable layer and the image. */
  rootFs: number;
}

/** A container as a listing shows it. */
export interface ContainerSummary extends ContainerInfo {
  /** Docker's STATUS text: "Up 3 minutes (healthy)", "Exited (0) 2 seconds ago"… */
  statusText: string;
  /** Only when sizes were asked for. */
  sizes?: ContainerSizes;
  /** Docker's PORTS text of a running container ("0.0.0.0:8080->80/tcp"), '' otherwise. */
  portsText: string;
  /** The network it is on, as the NETWORKS column shows it. */
  networkName: string;
}

export interface ContainerListOptions {
  /** Stopped containers too (implied by `last` and by a status or exited filter). */
  all?: boolean;
  /** Docker's `key=value` filters: several values of one key match any, different keys all. */
  filters?: string[];
  /** Only the n last created (of any state). */
  last?: number;
  size?: boolean;
}

/** Docker's STATUS column: "Up 3 minutes (healthy)", "Exited (0) 2 seconds ago", "Created"… */
export function statusText(c: ContainerInfo, now = Date.now()): string {
  const s = c.state;
  switch (s.Status) {
    case 'running':
    case 'paused': {
      const health = s.Health ? (s.Health.Status === 'starting' ? ' (health: starting)' : ` (${s.Health.Status})`) : '';
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${s.Paused ? ' (Paused)' : health}`;
    }
    case 'restarting': return `Restarting (${s.ExitCode}) ${ago(s.FinishedAt, now)}`;
    case 'removing': return 'Removal In Progress';
    case 'exited':
      return s.FinishedAt.startsWith('0001') ? 'Created' : `Exited (${s.ExitCode}) ${ago(s.FinishedAt, now)}`;
    default: return 'Created';
  }
}

/** Bytes in a directory tree (du's apparent sizes), 0 if it is gone. */
function treeSize(path: string): number {
  try {
    return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\t')[0]);
  } catch {
    return 0;
  }
}

/** Docker's SizeRw and SizeRootFs of a container. */
export function containerSizes(engine: Engine, c: ContainerInfo): ContainerSizes {
  const rw = treeSize(containerPaths(c.dir, c.id).upper);
  let image = 0;
  try {
    image = imageSize(engine, engine.image(c.imageId));
  } catch { /* image gone */ }
  return { rw, rootFs: rw + image };
}

/** A name filter is a regular expression, as in Docker; a bad one is the user's error. */
function namePattern(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (err) {
    throw invalid('InvalidFilter', `invalid filter 'name=${text}': ${(err as Error).message}`);
  }
}

/** `ps --filter`: Docker's keys; several values of one key match any, different keys all. */
function matcher(filters: string[], all: ContainerInfo[]): (c: ContainerInfo) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    if (i < 1) throw invalid('InvalidFilter', `bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, i);
    if (!['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'health', 'is-task', 'volume', 'network'].includes(key)) {
      throw invalid('InvalidFilter', `invalid filter '${key}'`);
    }
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(i + 1)]);
  }
  const created = (ref: string) => {
    const c = all.find((x) => x.id === ref || x.name === ref || x.id.startsWith(ref));
    if (!c) throw invalid('InvalidFilter', `No such container: ${ref}`);
    return c.created;
  };
  const statuses = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
  for (const s of byKey.get('status') ?? []) {
    if (!statuses.includes(s)) throw invalid('InvalidFilter', `invalid filter 'status=${s}'`);
  }
  const tests: Record<string, (c: ContainerInfo, v: string) => boolean> = {
    id: (c, v) => c.id.startsWith(v),
    name: (c, v) => namePattern(v).test(c.name),
    label: (c, v) => {
      const labels = c.body.Labels ?? {};
      const [k, val] = v.split('=', 2) as [string, string | undefined];
      return k in labels && (val === undefined || labels[k] === val);
    },
    status: (c, v) => c.state.Status === v,
    exited: (c, v) => c.state.Status === 'exited' && String(c.state.ExitCode) === v,
    ancestor: (c, v) => c.image === v || c.image.split(':')[0] === v || c.imageId === v || c.imageId.slice(7).startsWith(v.replace(/^sha256:/, '')),
    before: (c, v) => c.created < created(v),
    since: (c, v) => c.created > created(v),
    health: (c, v) => (c.state.Health?.Status ?? 'none') === v,
    'is-task': (_c, v) => v === 'false',
    volume: (c, v) => (c.body.HostConfig?.Binds ?? []).some((b) => b.split(':')[0] === v) || (c.body.HostConfig?.Mounts ?? []).some((m) => m.Source === v),
    network: (c, v) => networkNameOf(c.body) === v,
  };
  return (c) => [...byKey].every(([k, vs]) => vs.some((v) => tests[k]!(c, v)));
}

/** `ps`: the containers Docker would list, newest first. */
export async function containerList(engine: Engine, opts: ContainerListOptions = {}): Promise<ContainerSummary[]> {
  const filters = opts.filters ?? [];
  const all = await engine.listContainers();
  const match = matcher(filters, all);
  const showAll = opts.all || opts.last !== undefined || filters.some((f) => /^(status|exited)=/.test(f));
  let list = all.filter((c) => (showAll || c.state.Running || c.state.Restarting) && match(c));
  if (opts.last !== undefined) list = list.slice(0, opts.last);
  const now = Date.now();
  return list.map((c) => ({
    ...c, statusText: statusText(c, now), ...(opts.size ? { sizes: containerSizes(engine, c) } : {}),
    portsText: c.state.Running ? portsText(publishedPorts(engine, c.id)) : '', networkName: networkNameOf(c.body),
  }));
}
