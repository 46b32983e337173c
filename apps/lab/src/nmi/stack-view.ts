import type { Kernel } from '@kernsim/kernel';
import { I386_SAVED_WORDS, i386FrameSlotRole, nmiStateName } from '@kernsim/nmi-i386';
import { slotRoleOf } from '@kernsim/nmi-x86_64';
import type { LiveFrame, StackKind } from './shown-run.js';

export interface StackView {
  readonly cpu: number;
  readonly title: string;
  /** i386: the per-CPU nmi_state latch (not on the stack), shown above it. */
  readonly latch: { readonly value: string; readonly name: string } | undefined;
  readonly slots: readonly StackSlot[];
}

export interface StackSlot {
  readonly address: string;
  readonly region: string;
  /** Which delivery's frame the slot belongs to (i386, where frames sit wherever the stack was). */
  readonly owner: string;
  readonly field: string;
  readonly value: string;
  readonly symbol: string | undefined;
}

/** i386: words shown, from a little above the outermost live frame down. */
const I386_SLOTS = 48;
const I386_ABOVE = 3;

export function hexOf(v: bigint, width: number): string {
  return BigInt.asUintN(width * 4, v).toString(16).padStart(width, '0');
}

function slotAt(k: Kernel, address: bigint, w: 4 | 8, region: string, owner: string, field: string): StackSlot {
  let value: bigint | undefined;
  try {
    value = k.machine.read(address, w);
  } catch {
    value = undefined;
  }
  const textStart = k.image.layout.text;
  const textEnd = k.symbol('__kernel_text_end');
  return {
    address: hexOf(address, w * 2),
    region,
    owner,
    field,
    value: value === undefined ? '(unmapped)' : hexOf(value, w * 2),
    symbol: value !== undefined && value >= textStart && value < textEnd ? k.symbols.symbolize(value) : undefined,
  };
}

/** The CPU's NMI stack: x86_64's IST stack slot by slot from the top, named by the entry's layout. */
function x86StackView(k: Kernel, entry: Exclude<StackKind, 'i386'>, cpu: number): StackView {
  const { role, slots: count } = slotRoleOf(entry);
  const top = k.nmiStackTop(cpu);
  const slots: StackSlot[] = [];
  for (let i = 1; i <= count; i++) {
    const r = role(i * 8);
    slots.push(slotAt(k, top - BigInt(i * 8), 8, r.region, '', r.field));
  }
  return { cpu, title: `CPU ${cpu}: NMI IST stack`, latch: undefined, slots };
}

/**
 * i386 has no IST: an NMI (and a #PF or #BP inside it) pushes its frame wherever the stack is.
 * Each live frame's words are named by nmi-i386's layout (hardware frame, the entry's pt_regs),
 * the words between frames are the handlers' own, and those above the outermost frame the
 * interrupted code's.
 */
function i386StackView(k: Kernel, cpu: number, frames: readonly LiveFrame[]): StackView {
  const top = k.nmiStackTop(cpu);
  const outer = frames[0];
  const start = outer === undefined ? top : minBig(top, outer.ip + BigInt(4 * ((outer.fromUser ? 5 : 3) + I386_ABOVE)));
  const slots: StackSlot[] = [];
  for (let i = 1; i <= I386_SLOTS; i++) {
    const address = start - BigInt(4 * i);
    const { region, owner, field } = i386Role(frames, address);
    slots.push(slotAt(k, address, 4, region, owner, field));
  }
  const state = k.readPercpu(cpu, 'nmiState');
  const nmis = frames.filter((f) => f.name === 'NMI').length;
  return { cpu, title: `CPU ${cpu}: current kernel stack (i386 NMIs use it), ${nmis} NMI frame${nmis === 1 ? '' : 's'} live`, latch: { value: hexOf(state, 8), name: nmiStateName(state) }, slots };
}

/** Frames outermost (highest) first: a word is in the first frame whose saved registers reach down to it, or between frames. */
function i386Role(frames: readonly LiveFrame[], address: bigint): { region: string; owner: string; field: string } {
  const i = frames.findIndex((f) => address >= f.ip - BigInt(4 * I386_SAVED_WORDS));
  const f = frames[i];
  const role = f === undefined ? undefined : i386FrameSlotRole(Number(address - f.ip) / 4, f.fromUser);
  if (f !== undefined && role !== undefined) return { region: role.region, owner: f.name, field: role.field };
  // Above frame i (or below them all): the stack of whoever runs on top of the frame outside it.
  const below = i < 0 ? frames.at(-1) : frames[i - 1];
  return below === undefined ? { region: 'interrupted code', owner: '', field: '' } : { region: 'handler frames', owner: below.name, field: '' };
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function stackView(k: Kernel, kind: StackKind, cpu: number, frames: readonly LiveFrame[]): StackView {
  return kind === 'i386' ? i386StackView(k, cpu, frames) : x86StackView(k, kind, cpu);
}
