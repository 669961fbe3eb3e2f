// escapeControls: what text from outside looks like once it is safe to print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControls } from '../../src/util/terminal-text.js';

test('escape sequences, BEL, CR and the other C0 controls, DEL and C1 controls are shown, not sent', () => {
  assert.equal(escapeControls('\x1b]0;pwned\x07\x1b[2J'), '\\x1b]0;pwned\\x07\\x1b[2J');
  assert.equal(escapeControls('ok\rfake'), 'ok\\rfake');
  assert.equal(escapeControls('a\tb\nc\x00d\x7fe'), 'a\\tb\\nc\\x00d\\x7fe');
  assert.equal(escapeControls('\u009b2J and \u0085'), '\\u009b2J and \\u0085');
});

test('printable text, including non-ASCII, is unchanged; newlines stay when asked', () => {
  assert.equal(escapeControls('busybox:latest — größe 日本 "quoted" \\ path'), 'busybox:latest — größe 日本 "quoted" \\ path');
  assert.equal(escapeControls('line one\nline\x1b two', { keepNewlines: true }), 'line one\nline\\x1b two');
});
