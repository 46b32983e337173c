import type { ScenarioResult, StackCapture } from '@kernsim/kernel';
import { naiveSlotRole, nestedSlotRole } from './stack-layout.js';
import type { SlotRole } from './stack-layout.js';

export interface DiagramSlot {
  readonly address: bigint;
  readonly role: SlotRole;
  readonly value: bigint;
  readonly symbol: string | undefined;
  /** Different from the previous diagram of the sequence. */
  readonly changed: boolean;
}

export interface StackDiagram {
  readonly title: string;
  readonly caption: string;
  readonly cpu: number;
  readonly top: bigint;
  readonly slots: readonly DiagramSlot[];
}

/** Which captures tell the story, in order, with what each one shows. */
const STORY: Readonly<Record<'naive' | 'nested', readonly (readonly [string, string])[]>> = {
  nested: [
    ['restart_nmi', 'first NMI set up: variable = 1, saved and copied frames made'],
    ['nested_nmi', 'a nested NMI (after an exception\'s iret) wrote its frame over the original one'],
    ['nested_nmi_out', 'the nested NMI pointed the copied frame at repeat_nmi'],
    ['repeat_nmi', 'the first NMI returned into repeat_nmi through the copied frame'],
    ['restart_nmi', 'repeat_nmi re-armed the variable and copied the saved frame back'],
  ],
  naive: [
    ['nmi', 'first NMI: hardware frame at the IST top'],
    ['nmi', 'a second NMI restarted the IST stack at the same top'],
    ['nmi_restore', 'returning: whose frame is this?'],
  ],
};

const SLOTS = { nested: 36, naive: 24 } as const;

/**
 * The article's stack figures, drawn from the simulation: the NMI stack at the moments
 * that matter, every 8-byte slot labelled with what the entry keeps there.
 */
export function stackDiagrams(result: ScenarioResult, cpu = 0): StackDiagram[] {
  const kind = result.entry === 'naive' ? 'naive' : 'nested';
  const role = kind === 'naive' ? naiveSlotRole : nestedSlotRole;
  const captures = result.stacks.filter((s) => s.cpu === cpu);
  const picked: { capture: StackCapture; caption: string }[] = [];
  let from = 0;
  for (const [landmark, caption] of STORY[kind]) {
    const i = captures.findIndex((c, k) => k >= from && c.landmark === landmark && (landmark !== 'nmi' || picked.length === 0 || c.activeNmis > 1));
    if (i < 0) continue;
    picked.push({ capture: captures[i]!, caption });
    from = i + 1;
  }
  let previous: readonly bigint[] | undefined;
  return picked.map(({ capture, caption }) => {
    const n = Math.min(SLOTS[kind], capture.words.length);
    const slots: DiagramSlot[] = [];
    for (let i = 0; i < n; i++) {
      const value = capture.words[i]!;
      slots.push({
        address: capture.top - BigInt(8 * (i + 1)),
        role: role(8 * (i + 1)),
        value,
        symbol: capture.symbols[i],
        changed: previous !== undefined && previous[i] !== value,
      });
    }
    previous = capture.words;
    return { title: `${capture.title} (step ${capture.step})`, caption, cpu: capture.cpu, top: capture.top, slots };
  });
}

const hex16 = (v: bigint): string => BigInt.asUintN(64, v).toString(16).padStart(16, '0');

/** One diagram as text: address, region, field, value (and symbol); `*` marks a changed slot. */
export function renderStackText(d: StackDiagram): string {
  const lines = [`${d.title}: ${d.caption}`];
  for (const s of d.slots) {
    const label = `${s.role.region}${s.role.field ? ` ${s.role.field}` : ''}`;
    lines.push(`${s.changed ? '*' : ' '} ${hex16(s.address)}  ${label.padEnd(24)} ${hex16(s.value)}${s.symbol ? `  <${s.symbol}>` : ''}`);
  }
  return lines.join('\n');
}

const COLORS: Readonly<Record<SlotRole['region'], string>> = {
  'hardware frame': '#f4c7c3',
  'rdx temp': '#fce8b2',
  'NMI executing': '#f6b26b',
  'saved frame': '#b7e1cd',
  'copied frame': '#c9daf8',
  scratch: '#fce8b2',
  'kept CS': '#f6b26b',
  pt_regs: '#eeeeee',
  'handler frames': '#ffffff',
};

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The sequence side by side as one SVG; changed slots get a thick outline. */
export function renderStackSvg(diagrams: readonly StackDiagram[]): string {
  const colW = 330;
  const rowH = 15;
  const head = 48;
  const rows = Math.max(0, ...diagrams.map((d) => d.slots.length));
  const width = Math.max(1, diagrams.length) * colW + 10;
  const height = head + rows * rowH + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="10">`,
  ];
  diagrams.forEach((d, c) => {
    const x = 5 + c * colW;
    out.push(`<text x="${x}" y="14" font-weight="bold">${escapeXml(d.title)}</text>`);
    out.push(`<text x="${x}" y="28">${escapeXml(d.caption.slice(0, 58))}</text>`);
    out.push(`<text x="${x}" y="40">${escapeXml(d.caption.slice(58, 116))}</text>`);
    d.slots.forEach((s, r) => {
      const y = head + r * rowH;
      const label = `${s.role.region}${s.role.field ? ` ${s.role.field}` : ''}`;
      out.push(
        `<rect x="${x}" y="${y}" width="${colW - 10}" height="${rowH}" fill="${COLORS[s.role.region]}" stroke="${s.changed ? '#cc0000' : '#999999'}" stroke-width="${s.changed ? 2 : 0.5}"/>`,
      );
      out.push(`<text x="${x + 3}" y="${y + 11}">${escapeXml(label.slice(0, 22))}</text>`);
      out.push(`<text x="${x + 135}" y="${y + 11}">${escapeXml(s.symbol ?? hex16(s.value))}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
