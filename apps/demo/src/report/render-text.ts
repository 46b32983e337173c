import { escapeText } from './escape.js';
import type { Block, Cell, Column, SectionReport } from './model.js';
import type { Style } from './style.js';

function alignRight(column: Column, cells: readonly Cell[]): boolean {
  if (column.align !== undefined) return column.align === 'right';
  return cells.length > 0 && cells.every((cell) => typeof cell === 'number');
}

function formatCell(cell: Cell): string {
  return typeof cell === 'number' ? cell.toLocaleString('en-US', { maximumFractionDigits: 2 }) : escapeText(cell);
}

export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
  style: Style,
): string {
  const text = rows.map((row) => columns.map((_, i) => formatCell(row[i] ?? '')));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...text.map((row) => row[i]?.length ?? 0)),
  );
  const right = columns.map((column, i) => alignRight(column, rows.map((row) => row[i] ?? '')));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (right[i] === true ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const header = style.bold(line(columns.map((column) => escapeText(column.header))));
  const rule = style.dim(widths.map((width) => '-'.repeat(width)).join('  '));
  return [header, rule, ...text.map(line)].join('\n');
}

// Every string a section hands over may hold names from outside: escaped before the
// style adds its own escape codes.
function renderBlock(block: Block, style: Style): string {
  switch (block.kind) {
    case 'heading':
      return style.bold(escapeText(block.text));
    case 'paragraph':
      return escapeText(block.text);
    case 'list':
      return block.items.map((item) => `  - ${escapeText(item)}`).join('\n');
    case 'table': {
      const table = renderTable(block.columns, block.rows, style);
      return block.title === undefined ? table : `${style.accent(escapeText(block.title))}\n${table}`;
    }
    case 'pre':
      return block.title === undefined ? escapeText(block.text) : `${style.accent(escapeText(block.title))}\n${escapeText(block.text)}`;
    case 'figure':
      return `${style.accent(escapeText(block.title))}\n${escapeText(block.alt)}`;
  }
}

export function renderText(reports: readonly SectionReport[], style: Style): string {
  return reports
    .map((report) => {
      const title = `== ${escapeText(report.title)} ==`;
      const body = report.blocks.map((block) => renderBlock(block, style)).join('\n\n');
      return `${style.bold(style.accent(title))}\n\n${body}\n`;
    })
    .join('\n');
}
