import { imm } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';
import { PERCPU } from '../percpu.js';

/** NMI handler types, as in 3.3's `enum { NMI_LOCAL, NMI_UNKNOWN }`. */
export const NMI_TYPE = { local: 0, unknown: 1 } as const;
export type NmiType = keyof typeof NMI_TYPE;

/** Handlers per type the tables can hold. */
export const NMI_TABLE_SLOTS = 8;

/** Code an NMI entry may add at the start and end of `do_nmi` (3.3's nmi_nesting_pre/postprocess). */
export interface DoNmiHooks {
  /** Runs first, with bx = pt_regs. `labels.out` returns from do_nmi; define `labels.restart` where a repeat starts. */
  readonly preprocess?: (ctx: BuildContext, labels: DoNmiLabels) => void;
  /** Runs last, before the epilogue. */
  readonly postprocess?: (ctx: BuildContext, labels: DoNmiLabels) => void;
}

export interface DoNmiLabels {
  readonly out: string;
  readonly restart: string;
}

/**
 * `do_nmi(regs)`, `default_do_nmi` and `nmi_handle(type, regs)`: walk every handler
 * registered for the type (the tables are data boot fills in), add up what they
 * report handled, and count an unknown NMI when nobody claims it.
 */
export function emitNmiChain(ctx: BuildContext, hooks: DoNmiHooks): void {
  const { a, isa } = ctx;
  const { ax, bx, cx, dx, di, si, w } = isa;
  const word = isa.word;
  const pc = (f: keyof typeof PERCPU): ReturnType<typeof isa.percpu> => isa.percpu(PERCPU[f] * w);
  const labels: DoNmiLabels = { out: '.Ldo_nmi_out', restart: 'nmi_restart_handler' };

  // nmi_handle(di = type, si = regs) -> ax = events handled
  a.label('nmi_handle');
  a.push(bx).push(cx).push(dx).push(di);
  a.mov(bx, imm(isa.abs(ctx.d('nmi_desc_local'))));
  a.test(di, di);
  a.jz('.Lnmi_handle_table');
  a.mov(bx, imm(isa.abs(ctx.d('nmi_desc_unknown'))));
  a.label('.Lnmi_handle_table');
  a.xor(isa.eax, isa.eax);
  a.mov(dx, ax);
  a.mov(cx, ax);
  a.label('.Lnmi_handle_loop');
  a.cmp(cx, word(bx));
  a.jae('.Lnmi_handle_done');
  a.call(word({ base: bx, index: cx, scale: w, disp: w }));
  a.add(dx, ax);
  a.add(cx, 1);
  a.jmp('.Lnmi_handle_loop');
  a.label('.Lnmi_handle_done');
  a.mov(ax, dx);
  a.pop(di).pop(dx).pop(cx).pop(bx);
  a.ret();

  // do_nmi(di = regs)
  a.label('do_nmi');
  a.push(ax).push(bx).push(si).push(di);
  a.mov(bx, di);
  hooks.preprocess?.(ctx, labels);
  if (!hooks.preprocess) a.label(labels.restart);
  // Where a handler run starts (observers count runs here).
  a.label('nmi_handler_start');
  a.add(pc('nmiDepth'), 1);
  a.mov(ax, pc('nmiDepth'));
  a.cmp(ax, pc('nmiDepthMax'));
  a.jbe('.Ldo_nmi_depth_ok');
  a.mov(pc('nmiDepthMax'), ax);
  a.label('.Ldo_nmi_depth_ok');
  a.add(pc('nmiCount'), 1);
  // default_do_nmi
  a.mov(di, 0);
  a.mov(si, bx);
  a.call('nmi_handle');
  a.add(pc('nmiNormal'), ax);
  a.test(ax, ax);
  a.jnz('.Ldo_nmi_handled');
  a.mov(di, 1);
  a.call('nmi_handle');
  a.test(ax, ax);
  a.jnz('.Ldo_nmi_unknown_claimed');
  a.mov(ax, 1);
  a.label('.Ldo_nmi_unknown_claimed');
  a.add(pc('nmiUnknown'), ax);
  a.label('.Ldo_nmi_handled');
  a.sub(pc('nmiDepth'), 1);
  hooks.postprocess?.(ctx, labels);
  a.label(labels.out);
  a.pop(di).pop(si).pop(bx).pop(ax);
  a.ret();
}
