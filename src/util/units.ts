// Sizes as Docker's command line writes them ("64m", "1.5g", "512k"), with
// go-units' RAMInBytes semantics: a number, an optional space, then an
// optional k, m, g, t or p (any case) optionally followed by "i" and "b"
// ("64mb", "64MiB", "64b"); 1024-based; fractions truncated to whole bytes.
// npm's `bytes` reads "64m" as 64 bytes, so it does not fit.
import { invalid } from './errors.js';

const MULTIPLIERS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

const SIZE = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i;

/** Bytes in `text`; throws invalid() with Docker's "invalid size: '…'" message. */
export function ramInBytes(text: string): number {
  const m = SIZE.exec(text);
  if (!m) throw invalid('InvalidSize', `invalid size: '${text}'`);
  return Math.trunc(Number(m[1]) * (m[2] ? MULTIPLIERS[m[2].toLowerCase()]! : 1));
}
