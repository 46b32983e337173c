import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, escapeControls, escapeHtml, escapeMarkdown } from './escape.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('escaping names from outside', () => {
  it('leaves no control character in any format, and shows each one as \\xNN', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        for (const escape of [escapeControls, escapeHtml, escapeMarkdown, csvField]) expect(escape(text)).not.toMatch(CONTROL);
        const shown = escapeControls(text);
        if (!CONTROL.test(text)) expect(shown).toBe(text);
        expect(shown.replace(/\\x([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))).toBe(
          text.replace(/\\x([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
        );
      }),
    );
    expect(escapeControls('a\u001b]0;t\u0007\u009bb')).toBe('a\\x1b]0;t\\x07\\x9bb');
  });
});
