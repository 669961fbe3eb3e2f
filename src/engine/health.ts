// Healthchecks: the image's HEALTHCHECK merged with the --health-* flags, one
// probe run inside the container, and the state Docker shows. (Filled in by
// the healthcheck work.)
import type { Engine } from './engine.js';
import type { HealthState } from './container-info.js';

/** The container's health, or undefined when it has no healthcheck. */
export function healthOf(engine: Engine, id: string): HealthState | undefined {
  void engine; void id;
  return undefined;
}
