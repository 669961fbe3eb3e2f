// `berth events`: the engine's event stream as Docker's CLI prints it, from
// the store every berth process writes to (see src/engine/events.ts). It
// streams until interrupted, or ends at --until.
import type { Command } from 'commander';
import { invalid } from '../util/errors.js';
import { parseEventFilters, parseEventTime, queryEvents, eventLine, dockerEventMessage, type StoredEvent } from '../engine/index.js';
import type { CliContext } from './context.js';
import { collect } from './context.js';
import { renderObject } from './format.js';

/** The fields of Docker's events.Message as a template names them. */
const MESSAGE_FIELDS = ['Status', 'ID', 'From', 'Type', 'Action', 'Actor', 'Scope', 'Time', 'TimeNano'];

/**
 * An event as a Go template sees it (Go's field names: .Status, .Actor.ID,
 * .TimeNano), whose JSON (`{{json .}}`) is the API's message.
 */
function templateValue(e: StoredEvent): Record<string, unknown> {
  const message = dockerEventMessage(e);
  const value: Record<string, unknown> = {
    Status: message.status, ID: message.id, From: message.from, Type: message.Type, Action: message.Action,
    Actor: message.Actor, Scope: message.scope, Time: message.time, TimeNano: message.timeNano,
  };
  Object.defineProperty(value, 'toJSON', { value: () => message, enumerable: false });
  return value;
}

/** Docker runs the template on an empty message first: a field it lacks is refused before anything streams. */
function checkTemplate(template: string): void {
  for (const [, path] of template.matchAll(/\{\{[^}]*?\.([A-Za-z0-9_.]+)[^}]*\}\}/g)) {
    const field = path!.split('.')[0]!;
    if (!MESSAGE_FIELDS.includes(field)) {
      throw invalid('InvalidFormat', `template: :1: executing "" at <.${field}>: can't evaluate field ${field} in type events.Message`);
    }
  }
}

export function registerEvents(program: Command, ctx: CliContext): Command {
  return program.command('events')
    .description('print the engine\'s events (containers, images, volumes) as they happen')
    .option('--since <time>', 'show the stored events since this time (RFC 3339, Unix seconds, or a duration such as 10m)')
    .option('--until <time>', 'stream until this time')
    .option('-f, --filter <key=value>', 'type, container, image, event, label, volume', collect, [] as string[])
    .option('--format <template>', 'a Go template for each event, or "json"')
    .action(async (opts: { since?: string; until?: string; filter: string[]; format?: string }) => {
      const filters = parseEventFilters(opts.filter);
      const now = Date.now();
      const since = opts.since !== undefined ? parseEventTime(opts.since, now) : undefined;
      const until = opts.until !== undefined ? parseEventTime(opts.until, now) : undefined;
      const template = opts.format === 'json' ? '{{json .}}' : opts.format;
      if (template) checkTemplate(template);
      const events = queryEvents(ctx.engine(), {
        filters, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
      });
      for await (const e of events) {
        process.stdout.write(template ? renderObject(template, templateValue(e)) : eventLine(e));
      }
    });
}
