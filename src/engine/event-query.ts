// Docker's event queries, for every face: which events a subscriber wants
// (filters, since, until) and the shapes it sees them in (the API's JSON
// message, the CLI's default line).
//
// Filters as Docker's daemon applies them (daemon/events/filter.go): values
// of one key match any, different keys must all match; `container` matches a
// prefix of the ID or name, `image` the image's ID or name (with or without
// tag) of image events and the image of container events, `event` the
// action (a prefix for the actions that carry a command or status, such as
// `health_status: healthy`), `label` every given key (and value).
//
// Times as Docker's client reads --since/--until (timetypes.GetTimestamp):
// a Go duration back from now, truncated to whole seconds; RFC 3339 or a
// shorter date form (in local time when it names no zone); or Unix seconds
// with a fraction.
import { invalid } from '../util/errors.js';
import { parseGoDuration, DurationSyntaxError } from '../util/duration.js';
import { parseReference, familiarName } from '../image/reference.js';
import { eventsAfter, followEvents, lastEventId, nowNs, type EventStoreHost, type StoredEvent } from './events.js';

/** The filter keys berth's events know (Docker's others name things berth has not: networks, plugins, swarm). */
const FILTER_KEYS = ['type', 'container', 'image', 'event', 'label', 'volume'] as const;
type FilterKey = typeof FILTER_KEYS[number];
export type EventFilters = Partial<Record<FilterKey, string[]>>;

/** `--filter key=value`, each: Docker's parsing and its refusals. */
export function parseEventFilters(args: readonly string[]): EventFilters {
  const filters: EventFilters = {};
  for (const arg of args) {
    const i = arg.indexOf('=');
    if (i < 0) throw invalid('InvalidFilter', `bad format of filter (expected name=value): ${arg}`);
    const key = arg.slice(0, i).trim().toLowerCase();
    if (!(FILTER_KEYS as readonly string[]).includes(key)) throw invalid('InvalidFilter', `invalid filter '${key}'`);
    (filters[key as FilterKey] ??= []).push(arg.slice(i + 1).trim());
  }
  return filters;
}

function exact(values: string[] | undefined, ...sources: (string | undefined)[]): boolean {
  return !values || sources.some((s) => s !== undefined && values.includes(s));
}

function fuzzy(values: string[] | undefined, ...sources: (string | undefined)[]): boolean {
  return !values || sources.some((s) => s !== undefined && values.some((v) => s.startsWith(v)));
}

/** Docker's stripTag: a reference's name without tag or digest (what cannot be parsed stays as it is). */
function withoutTag(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return familiarName(parseReference(text));
  } catch {
    return text;
  }
}

const FUZZY_ACTIONS = ['health_status', 'exec_create', 'exec_start'];

export function eventMatches(filters: EventFilters, e: StoredEvent): boolean {
  const a = e.attributes;
  const eventOk = (filters.event ?? []).some((v) => FUZZY_ACTIONS.includes(v)) ? fuzzy(filters.event, e.action) : exact(filters.event, e.action);
  const imageName = e.type === 'image' ? a.name : a.image;
  const labelsOk = (filters.label ?? []).every((l) => {
    const i = l.indexOf('=');
    const key = i < 0 ? l : l.slice(0, i);
    return key in a && (i < 0 || a[key] === l.slice(i + 1));
  });
  return eventOk
    && exact(filters.type, e.type)
    // As Docker's: by ID or name, whatever the event's type.
    && fuzzy(filters.container, e.actorId, a.name)
    && fuzzy(filters.volume, e.actorId, a.name)
    && (!filters.image || exact(filters.image, e.actorId, imageName, withoutTag(e.actorId), withoutTag(imageName)))
    && labelsOk;
}

const NS_PER_S = 1_000_000_000n;

function timeError(value: string): Error {
  return invalid('InvalidTime', `failed to parse value as time or duration: "${value}"`);
}

/**
 * A --since/--until value as nanoseconds since the epoch, read as Docker's
 * client reads it.
 */
export function parseEventTime(value: string, nowMs = Date.now()): bigint {
  if (value !== '0') {
    try {
      const back = parseGoDuration(value);
      // Go: reference.Add(-d).Unix(): whole seconds, rounded down.
      const ns = BigInt(nowMs) * 1_000_000n - BigInt(back);
      const seconds = ns / NS_PER_S - (ns % NS_PER_S < 0n ? 1n : 0n);
      return seconds * NS_PER_S;
    } catch (err) {
      if (!(err instanceof DurationSyntaxError)) throw err;
    }
  }
  const date = parseDate(value);
  if (date !== undefined) return date;
  // A date-like text that did not parse is the user's mistake, not a number.
  if (value.includes('-')) throw timeError(value);
  const m = /^[+]?(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) throw timeError(value);
  return BigInt(m[1]!) * NS_PER_S + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

/** Docker's date forms: 2006-01-02, …T15, …T15:04, …T15:04:05[.999999999], each with an optional zone. */
function parseDate(value: string): bigint | undefined {
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = m;
  // Go parses a fraction only in the form with seconds.
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  let ms: number;
  if (zone === undefined) {
    ms = new Date(...parts).getTime();
  } else {
    ms = Date.UTC(...parts);
    if (!/^[Zz]$/.test(zone)) {
      const sign = zone.startsWith('-') ? -1 : 1;
      ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    }
  }
  const check = new Date(Date.UTC(...parts));
  if (Number.isNaN(ms) || check.getUTCMonth() !== parts[1] || check.getUTCDate() !== parts[2] || parts[3] > 23 || parts[4] > 59 || parts[5] > 59) {
    throw invalid('InvalidTime', `parsing time "${value}": out of range`);
  }
  return BigInt(ms) * 1_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
}

/** A time as Docker's API writes since/until back: "seconds.nanoseconds". */
export function timestampText(ns: bigint): string {
  return `${ns / NS_PER_S}.${String(ns % NS_PER_S).padStart(9, '0')}`;
}

/** The API's events.Message (with the deprecated status/id/from Docker still fills for containers and images). */
export interface DockerEventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: bigint;
}

export function dockerEventMessage(e: StoredEvent): DockerEventMessage {
  const legacy = e.type === 'container'
    ? { status: e.action, id: e.actorId, ...(e.attributes.image !== undefined ? { from: e.attributes.image } : {}) }
    : e.type === 'image' ? { status: e.action, id: e.actorId } : {};
  return {
    ...legacy,
    Type: e.type, Action: e.action, Actor: { ID: e.actorId, Attributes: e.attributes },
    scope: 'local', time: Number(e.timeNs / NS_PER_S), timeNano: e.timeNs,
  };
}

/** Go's RFC3339NanoFixed in local time, as the Docker CLI prints an event's time. */
export function eventTimeText(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const offsetMin = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const zone = offsetMin === 0 ? 'Z' : `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`
    + `.${String(ns % NS_PER_S).padStart(9, '0')}${zone}`;
}

/** The Docker CLI's default line: time, type, action, actor, and the attributes sorted by key. */
export function eventLine(e: StoredEvent): string {
  const keys = Object.keys(e.attributes).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const attributes = keys.length ? ` (${keys.map((k) => `${k}=${e.attributes[k]}`).join(', ')})` : '';
  return `${eventTimeText(e.timeNs)} ${e.type} ${e.action} ${e.actorId}${attributes}\n`;
}

export interface EventQuery {
  filters?: EventFilters;
  /** Nanoseconds since the epoch: the stored events from then on come first. */
  since?: bigint;
  /** Stop at this time (at once, after the stored ones, when it has passed). */
  until?: bigint;
  signal?: AbortSignal;
}

/**
 * Docker's event stream: with --since or --until, the stored events in that
 * time first; then, unless --until has passed, each new event as it is
 * committed, until --until or the signal. Without either, new events only.
 */
export async function* queryEvents(host: EventStoreHost, q: EventQuery = {}): AsyncGenerator<StoredEvent> {
  if (q.since !== undefined && q.until !== undefined && q.until < q.since) {
    throw invalid('InvalidTime', `\`since\` time (${timestampText(q.since)}) cannot be after \`until\` time (${timestampText(q.until)})`);
  }
  const filters = q.filters ?? {};
  const last = lastEventId(host.db);
  if (q.since !== undefined || q.until !== undefined) {
    for (let after = 0; after < last;) {
      const batch = eventsAfter(host.db, after);
      if (batch.length === 0) break;
      for (const e of batch) {
        after = e.id;
        if (e.id > last) break;
        if (q.since !== undefined && e.timeNs < q.since) continue;
        if (q.until !== undefined && e.timeNs > q.until) continue;
        if (eventMatches(filters, e)) yield e;
      }
    }
    if (q.until !== undefined && q.until < nowNs()) return;
  }
  for await (const e of followEvents(host, { afterId: last, ...(q.until !== undefined ? { untilNs: q.until } : {}), ...(q.signal ? { signal: q.signal } : {}) })) {
    if (eventMatches(filters, e)) yield e;
  }
}
