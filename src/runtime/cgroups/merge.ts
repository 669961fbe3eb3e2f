// What a cgroup's limits are after several update()s: OCI updates name only
// the fields they change, so describe() shows the union, later values winning.
import type { LinuxResources } from './types.js';

export function mergeResources(base: LinuxResources, change: LinuxResources): LinuxResources {
  const out: LinuxResources = { ...base, ...change };
  if (base.memory !== undefined || change.memory !== undefined) out.memory = { ...base.memory, ...change.memory };
  if (base.cpu !== undefined || change.cpu !== undefined) out.cpu = { ...base.cpu, ...change.cpu };
  if (base.blockIO !== undefined || change.blockIO !== undefined) out.blockIO = { ...base.blockIO, ...change.blockIO };
  if (base.network !== undefined || change.network !== undefined) out.network = { ...base.network, ...change.network };
  if (base.unified !== undefined || change.unified !== undefined) out.unified = { ...base.unified, ...change.unified };
  return out;
}
