// The one escaping helper of both CLIs is dev-stats' `escapeControls`: control characters
// (C0, DEL, C1) become `\xNN`, so an escape sequence in a name from outside is shown, not
// obeyed. Text output and error messages use it line by line; HTML adds entity escaping.
import { escapeControls } from '@kernsim/dev-stats';

/** Text for a terminal: every line with its control characters shown as `\xNN`. */
export function escapeText(text: string): string {
  return text.split('\n').map(escapeControls).join('\n');
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML and SVG content and attribute values (control characters as `\xNN`). */
export function escapeHtml(text: string): string {
  return escapeText(text).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}
