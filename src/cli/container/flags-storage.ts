// Flags of `run` and `create` for storage (-v, --mount, --tmpfs).
import type { FlagGroup } from './flags.js';

export const storageFlags: FlagGroup = {
  add: (cmd) => cmd,
  apply: () => {},
};
