// What one command (`pull`, `load`, `import`) added to the stores, so that a
// failure part-way leaves them as they were. Every step of those commands is
// atomic (a blob is whole or absent, a layer is renamed into place whole), but
// a command is many steps: without this, a pull whose second layer is
// corrupt kept the first layer's blob and unpacked layer, and a refused load
// kept every blob it had ingested, none of them used by any image.
//
// A command notes each blob and layer just before it adds it, and only if it
// is not there yet, so nothing that was already in the store is ever taken
// back. On failure, what it noted goes again, top layer first, unless a
// recorded image uses it by then (another command may have finished an image
// sharing it meanwhile). What this does not cover: a second command that
// found a blob or layer of ours, still unrecorded, and counts on it while we
// take it back; it fails then with a missing blob or layer and can be run
// again. containerd closes that gap with leases; berth has no daemon to hold
// them.
import { debug } from '../util/debug.js';
import type { Digest } from './digest.js';
import { chainIdsOf, type ChainId } from './layers.js';
import type { ImageStores } from './pull.js';

export class StoreAdditions {
  private readonly blobs: Digest[] = [];
  private readonly layers: ChainId[] = [];

  constructor(private readonly stores: ImageStores) {}

  /** Before adding blob `d`: noted when it is not in the content store yet. */
  blob(d: Digest): void {
    if (!this.stores.content.has(d) && !this.blobs.includes(d)) this.blobs.push(d);
  }

  /** Before unpacking layer `chainId`: noted when it is not in the layer store yet. */
  layer(chainId: ChainId): void {
    if (!this.stores.layers.has(chainId) && !this.layers.includes(chainId)) this.layers.push(chainId);
  }

  /** Take back what was noted and no recorded image uses. Never throws: the command's own error is what the user needs to see. */
  undo(): void {
    const images = this.stores.images.list();
    const usedChains = new Set(images.flatMap((i) => chainIdsOf(i.layers.map((l) => l.diffId))));
    const usedBlobs = new Set<Digest>(images.flatMap((i) => [i.digest, i.configDigest, ...i.layers.map((l) => l.digest)]));
    for (const chainId of [...this.layers].reverse()) {
      if (usedChains.has(chainId) || !this.stores.layers.has(chainId)) continue;
      try {
        this.stores.layers.remove(chainId);
      } catch (err) {
        debug('rollback: layer %s stays: %s', chainId, (err as Error).message);
      }
    }
    for (const d of this.blobs) {
      if (usedBlobs.has(d)) continue;
      try {
        this.stores.content.delete(d);
      } catch (err) {
        debug('rollback: blob %s stays: %s', d, (err as Error).message);
      }
    }
  }
}

/** Run `step` with a record of its additions, taken back if it fails. */
export async function undoneOnFailure<T>(stores: ImageStores, step: (added: StoreAdditions) => Promise<T>): Promise<T> {
  const added = new StoreAdditions(stores);
  try {
    return await step(added);
  } catch (err) {
    added.undo();
    throw err;
  }
}
