// What a tour section produces: blocks for people (terminal or HTML) and `data` for
// machines (`--json`). Sections never print; the renderers decide how blocks look.

export type Cell = string | number;

export interface Column {
  readonly header: string;
  /** Numbers are right-aligned in the terminal; set to force an alignment. */
  readonly align?: 'left' | 'right';
}

export type Block =
  | { readonly kind: 'heading'; readonly text: string }
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  | {
      readonly kind: 'table';
      readonly title?: string;
      readonly columns: readonly Column[];
      readonly rows: readonly (readonly Cell[])[];
    }
  /** Monospace text kept as it is: disassembly, traces, stack diagrams. */
  | { readonly kind: 'pre'; readonly title?: string; readonly text: string }
  /** An SVG drawn by `svg.ts` (which escapes its labels); terminals show `alt`. */
  | { readonly kind: 'figure'; readonly title: string; readonly svg: string; readonly alt: string };

export interface SectionReport {
  readonly id: string;
  readonly title: string;
  readonly blocks: readonly Block[];
  /** Machine-readable results of the section, printed by `--json`. */
  readonly data: unknown;
}
