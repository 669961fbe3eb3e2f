// Errors and warnings on stderr, the one place the CLI says them. Messages
// carry text from outside (a registry's words, an archive's entry names, an
// image's config): its terminal controls are escaped here, so none of it can
// retitle, clear or rewrite the user's terminal.
import { escapeControls } from '../util/terminal-text.js';

/** One line (or several, a message of several lines) on stderr after `prefix`, controls escaped. */
export function sayOnStderr(prefix: string, message: string): void {
  process.stderr.write(`${prefix}${escapeControls(message, { keepNewlines: true })}\n`);
}

/** Docker's warning line, `WARNING: …`. */
export function warn(message: string): void {
  sayOnStderr('WARNING: ', message);
}
