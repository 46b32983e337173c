import { imm } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';
import { PERCPU } from '../percpu.js';
import { KPROBE } from './kprobes.js';

/**
 * `do_int3(di = regs)`: the registered int3 handlers run first (notify_die's chain),
 * then the kprobe handler (3.3's notify_die(DIE_INT3)):
 * find the probe at regs->ip - 1, run its pre-handler, and resume in the probe's
 * out-of-line copy of the instruction (a boosted probe: the copy jumps back by
 * itself, no single-step). A breakpoint nobody owns is fatal here.
 */
export function emitDoInt3(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, cx, si, di, w } = isa;
  const word = isa.word;
  a.label('do_int3');
  a.push(ax).push(cx).push(si);
  // The int3 notifier chain (registered handlers, e.g. a text patcher's): ax != 0 = handled.
  a.mov(si, imm(isa.abs(ctx.d('int3_chain'))));
  a.mov(cx, word(si));
  a.label('.Lint3_chain');
  a.test(cx, cx);
  a.jz('.Lint3_chain_done');
  a.add(si, w);
  a.call(word(si));
  a.test(ax, ax);
  a.jnz('.Lint3_done');
  a.sub(cx, 1);
  a.jmp('.Lint3_chain');
  a.label('.Lint3_chain_done');
  a.mov(ax, word(di, ctx.regs.ip));
  a.sub(ax, 1);
  a.mov(si, imm(isa.abs(ctx.d('kprobe_table'))));
  a.mov(cx, word(si));
  a.add(si, w);
  a.label('.Lkprobe_search');
  a.test(cx, cx);
  a.jz('.Lkprobe_none');
  a.cmp(ax, word(si, KPROBE.addr * w));
  a.je('.Lkprobe_hit');
  a.add(si, KPROBE.words * w);
  a.sub(cx, 1);
  a.jmp('.Lkprobe_search');
  a.label('.Lkprobe_hit');
  a.add(isa.percpu(PERCPU.kprobeHits * w), 1);
  a.call(word(si, KPROBE.handler * w));
  a.mov(ax, word(si, KPROBE.slot * w));
  a.mov(word(di, ctx.regs.ip), ax);
  a.label('.Lint3_done');
  a.pop(si).pop(cx).pop(ax);
  a.ret();
  a.label('.Lkprobe_none');
  a.mov(si, di);
  a.mov(di, imm(isa.abs(ctx.d('str_int3'))));
  a.call('die');
}
