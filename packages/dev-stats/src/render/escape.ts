const HTML: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/SVG element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML[c] ?? c);
}

/** Escapes the characters Markdown (and the HTML it may contain) would interpret. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\|`*_[\]<>#~]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/** RFC 4180: quote fields that hold a comma, quote or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
