// Layer and archive compression: decided by magic bytes, as Docker decides it
// (a media type is not trusted for this), and undone by one stream each.
import { Transform, PassThrough, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** fzstd's streaming decompressor as a Node transform (Node 20's zlib has no zstd). */
class ZstdDecompress extends Transform {
  private readonly zstd = new ZstdStream((chunk) => {
    if (chunk.length > 0) this.push(Buffer.from(chunk));
  });
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.zstd.push(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.zstd.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

/** A stream that undoes `compression`; `chunkSize` sets gunzip's output pieces. */
export function decompressor(compression: Compression, opts: { chunkSize?: number } = {}): Transform {
  if (compression === 'gzip') return createGunzip(opts.chunkSize ? { chunkSize: opts.chunkSize } : {});
  if (compression === 'zstd') return new ZstdDecompress();
  return new PassThrough();
}
