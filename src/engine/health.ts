// Healthchecks: the image's HEALTHCHECK merged with the --health-* flags, one
// probe run inside the container, and the state Docker shows. (Filled in by
// the healthcheck work.)
import type { Engine } from './engine.js';
import type { HealthState } from './container-info.js';
import type { CreateBody } from './host-config.js';

/** The container's health, or undefined when it has no healthcheck. */
export function healthOf(engine: Engine, id: string): HealthState | undefined {
  void engine; void id;
  return undefined;
}

/**
 * What the container's monitor runs periodically for its healthcheck, given
 * the CLI prefix of the `internal` commands (`[node, main.js, --root, R,
 * --run-root, RR, internal]`); undefined when it has none.
 */
export function healthMonitor(engine: Engine, id: string, body: CreateBody, internal: string[]): { intervalMs: number; command: string[] } | undefined {
  void engine; void id; void body; void internal;
  return undefined;
}
