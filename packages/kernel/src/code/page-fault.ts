import { imm, reg } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';

/**
 * `do_page_fault(di = regs)`: read CR2 first (3.3 does it at the top of
 * do_page_fault; nothing saves it across an NMI yet: that came after 3.3), try the
 * vmalloc sync for kernel addresses in the vmalloc area, then the exception table,
 * and oops otherwise. `vmalloc_fault(di = address) -> ax = 0 or -1` is per
 * architecture (it copies the reference page table's entry into the current one).
 */
export function emitDoPageFault(ctx: BuildContext, vmalloc: { readonly start: bigint; readonly end: bigint }): void {
  const { a, isa } = ctx;
  const { ax, cx, dx, di, si, w } = isa;
  const word = isa.word;
  const abs = (name: string): bigint => isa.abs(ctx.d(name));

  a.label('do_page_fault');
  a.push(ax).push(cx).push(dx).push(si).push(di);
  a.label('read_cr2');
  a.mov(ax, reg.cr2);
  // vmalloc area: sync the top-level entry from the reference table.
  if (isa.bits === 64) {
    a.movabs(dx, vmalloc.start);
    a.cmp(ax, dx);
    a.jb('.Lpf_not_vmalloc');
    a.movabs(dx, vmalloc.end);
    a.cmp(ax, dx);
    a.jae('.Lpf_not_vmalloc');
  } else {
    a.cmp(ax, imm(isa.abs(vmalloc.start)));
    a.jb('.Lpf_not_vmalloc');
    a.cmp(ax, imm(isa.abs(vmalloc.end)));
    a.jae('.Lpf_not_vmalloc');
  }
  a.push(di);
  a.mov(di, ax);
  a.call('vmalloc_fault');
  a.pop(di);
  a.test(ax, ax);
  a.je('.Lpf_done');
  a.mov(ax, reg.cr2);
  a.label('.Lpf_not_vmalloc');
  // fixup_exception: is regs->ip in the exception table?
  a.mov(si, imm(abs('ex_table')));
  a.mov(cx, word(si));
  a.add(si, w);
  a.mov(dx, word(di, ctx.regs.ip));
  a.label('.Lpf_search');
  a.test(cx, cx);
  a.jz('.Lpf_oops');
  a.cmp(dx, word(si));
  a.je('.Lpf_fixup');
  a.add(si, 2 * w);
  a.sub(cx, 1);
  a.jmp('.Lpf_search');
  a.label('.Lpf_fixup');
  a.mov(dx, word(si, w));
  a.mov(word(di, ctx.regs.ip), dx);
  a.label('.Lpf_done');
  a.pop(di).pop(si).pop(dx).pop(cx).pop(ax);
  a.ret();
  a.label('.Lpf_oops');
  a.mov(si, di);
  a.mov(di, imm(abs('str_oops')));
  a.call('puts');
  a.mov(di, imm(abs('str_pf')));
  a.call('puts');
  a.mov(di, ax);
  a.call('put_hex');
  a.cli();
  a.jmp('die_tail');
}
