// Text that came from outside (a registry's error body, an archive's entry
// names, an image's history) must not drive the user's terminal when berth
// prints it: an ESC starts a sequence that can retitle the window ("\x1b]0;…\x07"),
// clear the screen ("\x1b[2J") or hide what follows; a CR rewrites the line
// already shown. Every C0 control, DEL and every C1 control (U+0080–U+009F,
// which some terminals take as 8-bit CSI/OSC) is shown as an escape instead,
// as Go's %q shows it: \t \n \r, else \xHH (C0, DEL) or \u00HH (C1).

const CONTROLS = /[\x00-\x1f\x7f\u0080-\u009f]/g;
const CONTROLS_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every terminal control character escaped. With keepNewlines,
 * line feeds stay (a message of several lines printed as such), everything
 * else is escaped all the same.
 */
export function escapeControls(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(opts.keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS, escapeOne);
}
