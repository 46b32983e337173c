import { imm, reg } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';

/** Where the machine's direct map of physical memory starts (PAGE_OFFSET). */
export const PAGE_OFFSET = { x86_64: 0xffff880000000000n, i386: 0xc0000000n } as const;

/**
 * vmalloc_fault(di = address) -> ax = 0 or -1, as 3.3's fault.c does it: find the
 * reference table's top-level entry for the address (pgd_offset_k); if it is empty the
 * fault is not ours; if the current table's entry (CR3, through the direct map) is
 * empty, copy it (set_pgd). The reference pgd's virtual address is the data word
 * `init_pgd`, filled in at boot.
 */
export function emitVmallocFault(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, cx, dx, si, di } = isa;
  const is64 = isa.bits === 64;
  const entry = is64 ? 8 : 4;
  const scale = entry;
  a.label('vmalloc_fault');
  a.push(cx).push(dx).push(si);
  a.mov(ax, di);
  if (is64) {
    a.shr(ax, 39);
    a.and(ax, 511);
  } else {
    a.shr(ax, 22);
  }
  a.mov(si, isa.word(isa.abs(ctx.d('init_pgd'))));
  a.label('vmalloc_fault_read_ref');
  a.mov(cx, isa.word({ base: si, index: ax, scale }));
  a.test(cx, cx);
  a.jz('.Lvmalloc_fault_none');
  a.label('vmalloc_fault_read_cr3');
  a.mov(dx, reg.cr3);
  if (is64) {
    a.movabs(si, PAGE_OFFSET.x86_64);
    a.add(dx, si);
  } else {
    a.add(dx, imm(isa.abs(PAGE_OFFSET.i386)));
  }
  a.cmp(isa.word({ base: dx, index: ax, scale }), 0);
  a.jne('.Lvmalloc_fault_ok');
  a.label('vmalloc_fault_set_pgd');
  a.mov(isa.word({ base: dx, index: ax, scale }), cx);
  a.label('.Lvmalloc_fault_ok');
  a.xor(isa.eax, isa.eax);
  a.jmp('.Lvmalloc_fault_out');
  a.label('.Lvmalloc_fault_none');
  a.mov(ax, -1);
  a.label('.Lvmalloc_fault_out');
  a.pop(si).pop(dx).pop(cx);
  a.ret();
}
