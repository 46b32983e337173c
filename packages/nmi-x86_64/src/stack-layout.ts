/** What lives in one 8-byte slot of the NMI stack. */
export interface SlotRole {
  readonly region: 'hardware frame' | 'rdx temp' | 'NMI executing' | 'saved frame' | 'copied frame' | 'scratch' | 'kept CS' | 'pt_regs' | 'handler frames';
  readonly field: string;
}

const FRAME = ['RIP', 'CS', 'RFLAGS', 'RSP', 'SS'] as const;
const PT_REGS = ['r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'orig_ax'] as const;

function frameSlot(region: SlotRole['region'], index: number): SlotRole {
  return { region, field: FRAME[index] ?? '?' };
}

/**
 * The role of the slot `depth` bytes below the NMI stack top (depth 8 is the topmost
 * slot) under the 3.3 entry: the article's picture, slot by slot.
 */
export function nestedSlotRole(depth: number): SlotRole {
  const i = depth / 8 - 1; // 0 = topmost slot
  if (i < 5) return frameSlot('hardware frame', 4 - i);
  if (i === 5) return { region: 'rdx temp', field: 'rdx' };
  if (i === 6) return { region: 'NMI executing', field: 'variable' };
  if (i < 12) return frameSlot('saved frame', 11 - i);
  if (i < 17) return frameSlot('copied frame', 16 - i);
  if (i < 33) return { region: 'pt_regs', field: PT_REGS[15 - (i - 17)] ?? '?' };
  return { region: 'handler frames', field: '' };
}

/** The same for the pre-3.3 entry: hardware frame, pt_regs, handler frames. */
export function naiveSlotRole(depth: number): SlotRole {
  const i = depth / 8 - 1;
  if (i < 5) return frameSlot('hardware frame', 4 - i);
  if (i < 21) return { region: 'pt_regs', field: PT_REGS[15 - (i - 5)] ?? '?' };
  return { region: 'handler frames', field: '' };
}

const SCRATCH = ['rdx', 'rcx', 'rax'] as const;

/** The same for Torvalds's faulting-iret design: hardware frame, scratch words, the kept CS, the frame copy, pt_regs. */
export function faultingIretSlotRole(depth: number): SlotRole {
  const i = depth / 8 - 1;
  if (i < 5) return frameSlot('hardware frame', 4 - i);
  if (i < 8) return { region: 'scratch', field: SCRATCH[i - 5] ?? '?' };
  if (i === 8) return { region: 'kept CS', field: 'CS' };
  if (i < 14) return frameSlot('copied frame', 13 - i);
  if (i < 30) return { region: 'pt_regs', field: PT_REGS[15 - (i - 14)] ?? '?' };
  return { region: 'handler frames', field: '' };
}

/** The NMI stack layout of an explored entry choice (the 2010 ret-from-fault design keeps the pre-3.3 one). */
export function slotRoleOf(choice: { readonly entry: string; readonly variant?: string }): { readonly role: (depth: number) => SlotRole; readonly slots: number } {
  if (choice.variant === 'faulting-iret') return { role: faultingIretSlotRole, slots: 36 };
  if (choice.entry === 'naive' || choice.variant === 'ret-from-fault') return { role: naiveSlotRole, slots: 24 };
  return { role: nestedSlotRole, slots: 36 };
}
