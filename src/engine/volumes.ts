// Named and anonymous volumes, bind mounts, --mount and --tmpfs turned into
// the OCI spec's mounts. (Filled in by the storage work.)
import type { SpecMount } from '../runtime/spec.js';
import type { Engine } from './engine.js';
import type { HostConfig } from './host-config.js';

/**
 * The mounts of a container, in the order the runtime must make them. Named
 * volumes are created when missing, and filled from the image's content at
 * that path on first use, as Docker does. `imageVolumes` are the image
 * config's Volumes (anonymous volumes unless a mount covers the path).
 */
export async function containerMounts(engine: Engine, id: string, hc: HostConfig, imageVolumes: string[], rootfs: string): Promise<SpecMount[]> {
  void engine; void id; void hc; void imageVolumes; void rootfs;
  return [];
}

/** After `rm`: forget the container's use of its volumes; with `removeAnonymous` (`rm -v`, `--rm`), remove its anonymous ones. */
export function releaseContainerVolumes(engine: Engine, id: string, removeAnonymous: boolean): void {
  void engine; void id; void removeAnonymous;
}
