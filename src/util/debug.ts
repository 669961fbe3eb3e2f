// Tracing that costs nothing when unused: NODE_DEBUG=berth prints, and
// diagnostics_channel subscribers see each named event.
import { debuglog } from 'node:util';
import { channel } from 'node:diagnostics_channel';

export const debug = debuglog('berth');

export const channels = {
  containerCreate: channel('berth:container:create'),
  containerStart: channel('berth:container:start'),
  containerDelete: channel('berth:container:delete'),
} as const;
