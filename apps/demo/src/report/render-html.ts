import { escapeHtml } from './escape.js';
import type { Block, Cell, SectionReport } from './model.js';

function cell(value: Cell, tag: 'td' | 'th'): string {
  const numeric = typeof value === 'number';
  const text = numeric ? value.toLocaleString('en-US', { maximumFractionDigits: 2 }) : value;
  return `<${tag}${numeric ? ' class="num"' : ''}>${escapeHtml(text)}</${tag}>`;
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case 'heading':
      return `<h3>${escapeHtml(block.text)}</h3>`;
    case 'paragraph':
      return `<p>${escapeHtml(block.text)}</p>`;
    case 'list':
      return `<ul>${block.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`;
    case 'table': {
      const caption = block.title === undefined ? '' : `<caption>${escapeHtml(block.title)}</caption>`;
      const head = `<tr>${block.columns.map((column) => cell(column.header, 'th')).join('')}</tr>`;
      const body = block.rows.map((row) => `<tr>${row.map((value) => cell(value, 'td')).join('')}</tr>`);
      return `<table>${caption}<thead>${head}</thead><tbody>${body.join('')}</tbody></table>`;
    }
    case 'pre': {
      const title = block.title === undefined ? '' : `<figcaption>${escapeHtml(block.title)}</figcaption>`;
      return `<figure>${title}<pre>${escapeHtml(block.text)}</pre></figure>`;
    }
    case 'figure':
      // The SVG comes from svg.ts, which escapes every label it draws.
      return `<figure><figcaption>${escapeHtml(block.title)}</figcaption>${block.svg}</figure>`;
  }
}

const CSS = `
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
table{border-collapse:collapse;margin:1rem 0}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{padding:.2rem .7rem;border-bottom:1px solid #e3e3e3;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f6f4;padding:.8rem;overflow-x:auto;font:13px/1.35 ui-monospace,monospace}
figure{margin:1rem 0}figcaption{font-weight:600}nav a{margin-right:1rem}
`;

/** One self-contained page: no script, no external resource. */
export function renderHtml(reports: readonly SectionReport[], generator: string): string {
  const nav = reports.map((r) => `<a href="#${escapeHtml(r.id)}">${escapeHtml(r.title)}</a>`).join('');
  const sections = reports.map(
    (report) =>
      `<section id="${escapeHtml(report.id)}"><h2>${escapeHtml(report.title)}</h2>${report.blocks
        .map(renderBlock)
        .join('\n')}</section>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>kernsim report</title><style>${CSS}</style></head>
<body><h1>kernsim report</h1><p>${escapeHtml(generator)}</p><nav>${nav}</nav>
${sections.join('\n')}
</body></html>
`;
}
