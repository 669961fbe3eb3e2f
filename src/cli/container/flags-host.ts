// Flags of `run` and `create` for resources, limits and security (--memory, --cpus, --cap-add, --privileged, --security-opt, --ulimit, --sysctl, --device, --read-only, --init, --userns, …).
import type { FlagGroup } from './flags.js';

export const hostFlags: FlagGroup = {
  add: (cmd) => cmd,
  apply: () => {},
};
