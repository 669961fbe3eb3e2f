// Go's time.Duration as text, because Docker's flags and Dockerfile options
// take it ("30s", "1m30s", "500ms") and its messages print it. Parsing follows
// time.ParseDuration and printing Duration.String(), so a value round-trips
// the way a Docker user sees it. Durations are nanoseconds in a JS number:
// exact up to 2^53 ns (about 104 days), which every timeout here fits.
// Also Docker's human durations ("Up 2 hours", "3 minutes ago"), which
// the engine's list shapes and the CLI's columns both use.

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

export class DurationSyntaxError extends Error {}

/** time.ParseDuration: a signed sequence of decimal numbers, each with a unit. */
export function parseGoDuration(text: string): number {
  const invalidDuration = () => new DurationSyntaxError(`time: invalid duration "${text}"`);
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalidDuration();
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [number, whole = '', fraction] = m;
    if (whole === '' && (fraction ?? '') === '') throw invalidDuration();
    rest = rest.slice(number.length);
    const unitText = /^[^\d.]*/.exec(rest)![0];
    if (unitText === '') throw new DurationSyntaxError(`time: missing unit in duration "${text}"`);
    const unit = UNIT_NS[unitText];
    if (unit === undefined) throw new DurationSyntaxError(`time: unknown unit "${unitText}" in duration "${text}"`);
    rest = rest.slice(unitText.length);
    // Go drops fraction digits beyond what the unit can hold (below 1 ns).
    const digits = fraction ?? '';
    const scale = 10n ** BigInt(digits.length);
    total += BigInt(whole || '0') * unit + (BigInt(digits || '0') * unit) / scale;
  }
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidDuration();
  return negative ? -Number(total) : Number(total);
}

/** Duration.String(): "1m30s", "500ms", "1.5s", "0s", "2h0m0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const negative = ns < 0;
  let u = BigInt(Math.abs(Math.trunc(ns)));
  let out: string;
  if (u < 1_000_000_000n) {
    // Below a second: the largest unit that keeps an integer part.
    const [precision, unit] = u < 1_000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
    out = withFraction(u, precision) + unit;
  } else {
    const seconds = withFraction(u % 60_000_000_000n, 9);
    u /= 60_000_000_000n;
    out = `${seconds}s`;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return negative ? `-${out}` : out;
}

/** v / 10^precision with the fraction's trailing zeros (and a bare '.') dropped. */
function withFraction(v: bigint, precision: number): string {
  const scale = 10n ** BigInt(precision);
  const fraction = precision === 0 ? '' : (v % scale).toString().padStart(precision, '0').replace(/0+$/, '');
  return `${v / scale}${fraction ? `.${fraction}` : ''}`;
}

/** Docker's units.HumanDuration, as in "Up 2 hours" and "2 hours ago". */
export function humanDuration(ms: number): string {
  // Go's int() truncates seconds and minutes; hours are rounded.
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}
