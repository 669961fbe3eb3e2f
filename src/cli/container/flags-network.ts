// Flags of `run` and `create` for the container's network: `--network`
// (`--net`). Only the syntax is read here; whether the network exists is the
// engine's judgement.
import { hostConfigOf, type FlagGroup } from './flags.js';

interface NetworkFlags { network?: string; net?: string }

export const networkFlags: FlagGroup = {
  add: (cmd) => cmd
    .option('--network <network>', 'connect the container to a network: bridge (default), none, host')
    .option('--net <network>', 'the same as --network'),

  apply: (opts, body) => {
    const o = opts as NetworkFlags;
    const network = o.network ?? o.net;
    if (network !== undefined) hostConfigOf(body).NetworkMode = network;
  },
};
