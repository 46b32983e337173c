// Every string from outside (git authors, trailers, tags, config lines, log contents,
// file names in messages) goes through `escapeControls` before it reaches a terminal or a
// file a terminal may show; the other helpers here build on it. JSON is the one format
// that keeps names exact (JSON's own escaping already keeps control bytes inert).

/** C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some terminals). */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Shows control characters as `\xNN` (two lower-case hex digits), so an escape sequence
 * in a name is printed as text instead of moving the cursor or setting the terminal's
 * title. Everything else, a backslash included, is kept as it is.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const HTML: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/SVG element content and quoted attribute values (controls as `\xNN`). */
export function escapeHtml(text: string): string {
  return escapeControls(text).replace(/[&<>"']/g, (c) => HTML[c] ?? c);
}

/** Escapes the characters Markdown (and the HTML it may contain) would interpret. */
export function escapeMarkdown(text: string): string {
  return escapeControls(text.replace(/\r?\n/g, ' ')).replace(/[\\|`*_[\]<>#~]/g, (c) => `\\${c}`);
}

/** RFC 4180: quote fields that hold a comma or a quote (controls are already `\xNN`). */
export function csvField(text: string): string {
  const safe = escapeControls(text);
  return /[",]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
