// Environment lists (KEY=VALUE) as a process sees them: a later entry for a
// key replaces an earlier one, since libc's getenv takes the first it finds.
import { invalid } from '../util/errors.js';

/** Merge environment lists in order; a later KEY=VALUE replaces the earlier one, keeping its new position. */
export function mergeEnv(...lists: readonly (readonly string[])[]): string[] {
  const env = new Map<string, string>();
  for (const list of lists) {
    for (const entry of list) {
      const eq = entry.indexOf('=');
      const key = eq < 0 ? entry : entry.slice(0, eq);
      if (!key) throw invalid('InvalidEnv', `invalid environment variable "${entry}"`);
      env.delete(key);
      env.set(key, eq < 0 ? '' : entry.slice(eq + 1));
    }
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}
