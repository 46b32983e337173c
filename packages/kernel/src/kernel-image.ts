import { Assembler } from '@kernsim/cpu-core';
import type { AssembledCode } from '@kernsim/cpu-core';
import type { BuildContext, RegsLayout } from './build-context.js';
import { PT_REGS_32, PT_REGS_64 } from './build-context.js';
import { emitNmiChain } from './code/nmi-chain.js';
import { emitNmiSources } from './code/nmi-sources.js';
import { emitDoPageFault } from './code/page-fault.js';
import { emitDoInt3 } from './code/do-int3.js';
import { emitVmallocFault } from './code/vmalloc-fault.js';
import { emitPrintk } from './code/printk.js';
import { emitShowState } from './code/show-state.js';
import type { DataArea } from './data-area.js';
import { KernelError } from './errors.js';
import { isaOf } from './isa.js';
import type { Arch } from '@kernsim/cpu-core';
import type { Isa } from './isa.js';
import { layoutKernelData } from './kernel-data.js';
import { layoutOf } from './layout.js';
import type { Layout } from './layout.js';
import type { NmiEntry } from './nmi-entry.js';
import { emitKernelPrograms, emitUserPrograms } from './user-programs.js';
import type { ArchCode } from './arch-code.js';

/** The assembled kernel before it is loaded: code, data layout and where everything is. */
export interface KernelImage {
  readonly arch: Arch;
  readonly isa: Isa;
  readonly layout: Layout;
  readonly regs: RegsLayout;
  readonly data: DataArea;
  readonly text: AssembledCode;
  /** The user-mode programs, at the user text address. */
  readonly userText: AssembledCode;
  /** Code and data symbols together. */
  readonly symbols: ReadonlyMap<string, bigint>;
  readonly entry: NmiEntry;
}

/** Assembles the kernel for one architecture with the given NMI entry and architecture code. */
export function buildKernelImage(
  arch: Arch,
  entry: NmiEntry,
  archCode: ArchCode,
  taskNames: readonly string[],
  extraCode?: (ctx: BuildContext) => void,
): KernelImage {
  if (entry.arch !== arch) {
    throw new KernelError('KERNSIM_KERNEL_BAD_OPTIONS', `NMI entry ${entry.id} is for ${entry.arch}, the kernel is ${arch}`);
  }
  const isa = isaOf(arch);
  const layout = layoutOf(arch);
  const regs = arch === 'x86_64' ? PT_REGS_64 : PT_REGS_32;
  const data = layoutKernelData(isa, layout, taskNames);
  const a = new Assembler({ bitness: isa.bits, origin: layout.text });
  const ctx: BuildContext = { isa, layout, data, a, regs, d: (name) => data.address(name) };
  archCode.emit(ctx);
  entry.emit(ctx);
  emitNmiChain(ctx, entry.doNmiHooks ?? {});
  emitNmiSources(ctx);
  emitDoPageFault(ctx, { start: layout.vmalloc, end: arch === 'x86_64' ? layout.vmalloc + 0x10000000000n : 0xff000000n });
  emitDoInt3(ctx);
  emitVmallocFault(ctx);
  emitShowState(ctx);
  emitPrintk(ctx);
  emitKernelPrograms(a, isa);
  extraCode?.(ctx);
  a.label('kprobe_default_pre');
  a.ret();
  a.label('__kernel_text_end');
  const text = a.assemble();
  const u = new Assembler({ bitness: isa.bits, origin: layout.userText });
  emitUserPrograms(u, isa);
  const userText = u.assemble();
  const symbols = new Map<string, bigint>(text.symbols);
  for (const [name, address] of userText.symbols) symbols.set(name, address);
  for (const [name, item] of data.entries()) symbols.set(name, item.address);
  return { arch, isa, layout, regs, data, text, userText, symbols, entry };
}
