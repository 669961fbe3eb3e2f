// Flags of `run` and `create` for healthchecks (--health-cmd, --health-interval, …, --no-healthcheck).
import type { FlagGroup } from './flags.js';

export const healthFlags: FlagGroup = {
  add: (cmd) => cmd,
  apply: () => {},
};
