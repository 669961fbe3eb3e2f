// `update`: change the resources of a container while it runs, as Docker's
// update does: the new limits go into its cgroup at once (the kernel applies
// them to the running processes), into its stored create body (what inspect
// shows) and into its bundle's config.json (what its next start uses).
// Fields left out stay as they are.
import { readFileSync } from 'node:fs';
import { BerthError, conflict } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { Engine } from './engine.js';
import type { HostConfig, RestartPolicy } from './host-config.js';
import { containerPaths } from './container-info.js';
import { resourcesOf, validateHostConfig } from './host-options.js';
import type { Spec } from '../runtime/spec.js';

/** What `update` may change: the API's POST /containers/{id}/update body. */
export type UpdateRequest = Pick<HostConfig, 'Memory' | 'MemorySwap' | 'NanoCpus' | 'CpuShares' | 'CpusetCpus' | 'PidsLimit'> & {
  RestartPolicy?: RestartPolicy;
};

const RESOURCE_FIELDS = ['Memory', 'MemorySwap', 'NanoCpus', 'CpuShares', 'CpusetCpus', 'PidsLimit'] as const;

/** Memory plus swap in force: Docker stores twice the memory when only --memory was given. */
function effectiveSwap(hc: HostConfig): number {
  if (hc.MemorySwap !== undefined && hc.MemorySwap !== 0) return hc.MemorySwap;
  return (hc.Memory ?? 0) > 0 ? hc.Memory! * 2 : 0;
}

export async function updateContainer(engine: Engine, idOrName: string, req: UpdateRequest, warn: (m: string) => void = () => {}): Promise<void> {
  validateHostConfig(req, { update: true });
  const info = await engine.container(idOrName);
  const current = info.body.HostConfig ?? {};
  const fail = (why: string) => conflict('UpdateConflict', `Cannot update container ${info.id}: ${why}`);
  if (req.RestartPolicy && req.RestartPolicy.Name !== 'no' && current.AutoRemove) {
    throw fail('Restart policy cannot be updated because AutoRemove is enabled for the container');
  }
  const changes: HostConfig = {};
  for (const f of RESOURCE_FIELDS) if (req[f] !== undefined) (changes as Record<string, unknown>)[f] = req[f];
  if (req.Memory && req.MemorySwap === undefined) {
    const swap = effectiveSwap(current);
    if (swap > 0 && req.Memory > swap) throw fail('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const next: HostConfig = { ...current, ...changes };
  if (req.Memory && req.MemorySwap === undefined) {
    // The cgroup keeps the memory+swap in force (twice the old memory, or
    // none): record that, not a default derived from the new memory.
    const swap = effectiveSwap(current);
    changes.MemorySwap = swap > 0 ? swap : -1;
    next.MemorySwap = changes.MemorySwap;
  }
  if ((next.Memory ?? 0) > 0 && (next.MemorySwap ?? 0) > 0 && next.MemorySwap! < next.Memory!) {
    throw fail('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (!(next.Memory ?? 0) && (req.MemorySwap ?? 0) > 0) throw fail('You should always set the Memory limit when using Memoryswap limit, see usage');

  const resources = resourcesOf({ ...changes, ...(req.MemorySwap === undefined ? { MemorySwap: undefined } : {}) }, warn, { update: true });
  if (Object.keys(resources).length > 0 && info.state.Running) {
    try {
      for (const w of engine.runtime.update(info.id, resources)) warn(w);
    } catch (err) {
      // Stopped in the meantime: the stored limits are what counts now.
      if (!(err instanceof BerthError && (err.kind === 'conflict' || err.kind === 'notFound'))) {
        throw err instanceof BerthError ? new BerthError(err.kind, err.code, `Cannot update container ${info.id}: ${err.message}`) : err;
      }
    }
  }
  await engine.updateContainerBody(info.id, (body) => {
    const hc = (body.HostConfig ??= {});
    Object.assign(hc, changes);
    if (req.RestartPolicy) hc.RestartPolicy = req.RestartPolicy;
  });
  rewriteBundleResources(info.id, info.dir, next);
}

/** The bundle's linux.resources again from the HostConfig, so the next start keeps the new limits. */
function rewriteBundleResources(id: string, dir: string, hc: HostConfig): void {
  const path = containerPaths(dir, id).config;
  let spec: Spec;
  try {
    spec = JSON.parse(readFileSync(path, 'utf8')) as Spec;
  } catch {
    return; // no bundle (yet): nothing to keep in step
  }
  const linux = (spec.linux ??= {});
  const resources = (linux.resources = linux.resources?.devices ? { devices: linux.resources.devices } : {});
  Object.assign(resources, resourcesOf(hc));
  writeFileAtomic(path, JSON.stringify(spec, null, 2));
}
