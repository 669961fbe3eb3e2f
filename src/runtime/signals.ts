// Signals by the names and numbers people type: "KILL", "SIGKILL", "kill",
// "9", "SIGRTMIN+3". One parser for every verb that takes a signal (kill,
// stop, --stop-signal, the runtime's kill).
import { constants } from 'node:os';
import { invalid } from '../util/errors.js';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** The signal's number; a BerthError for anything that is not one. */
export function signalNumber(text: string | number): number {
  if (typeof text === 'number' || /^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > SIGRTMAX) throw invalid('InvalidSignal', `invalid signal "${text}"`);
    return n;
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const rt = /^SIGRTM(IN|AX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'IN' ? SIGRTMIN : SIGRTMAX;
    const n = base + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw invalid('InvalidSignal', `invalid signal "${text}"`);
  return n;
}
