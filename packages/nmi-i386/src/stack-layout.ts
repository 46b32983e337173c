import { NMI_STATE } from '@kernsim/kernel/entry-kit';

/** What lives in one 4-byte slot of an i386 NMI or exception frame on the current kernel stack. */
export interface I386SlotRole {
  readonly region: 'hardware frame' | 'pt_regs';
  readonly field: string;
}

/** The CPU's frame, from the EIP slot up: ESP and SS only when it came from user mode. */
const HARDWARE = ['EIP', 'CS', 'EFLAGS', 'ESP', 'SS'] as const;
/**
 * Below EIP, as `nmi_stack_correct` builds them (push %eax as orig_eax, then SAVE_ALL: gs, fs,
 * es, ds, eax, ebp, edi, esi, edx, ecx, ebx): struct pt_regs, read from its top down. An
 * exception's error code (or the -1 of #BP) sits in the same orig_eax slot.
 */
const SAVED = ['orig_ax', 'gs', 'fs', 'es', 'ds', 'ax', 'bp', 'di', 'si', 'dx', 'cx', 'bx'] as const;

/** Words of a frame below its EIP slot (pt_regs without ip/cs/flags/sp/ss). */
export const I386_SAVED_WORDS = SAVED.length;

/**
 * The role of the word `offset` words above a frame's EIP slot (0 = EIP, negative = below it,
 * where the entry saved the registers), or undefined outside the frame. `fromUser`: the CPU
 * came from CPL 3, so the frame also holds ESP and SS.
 */
export function i386FrameSlotRole(offset: number, fromUser: boolean): I386SlotRole | undefined {
  if (offset >= 0) {
    const top = fromUser ? 5 : 3;
    return offset < top ? { region: 'hardware frame', field: HARDWARE[offset] ?? '?' } : undefined;
  }
  const i = -offset - 1;
  return i < SAVED.length ? { region: 'pt_regs', field: SAVED[i] ?? '?' } : undefined;
}

/** The per-CPU `nmi_state` latch's value by name, as 3.3's nmi.c calls it. */
export function nmiStateName(value: bigint): string {
  if (value === BigInt(NMI_STATE.notRunning)) return 'NMI_NOT_RUNNING';
  if (value === BigInt(NMI_STATE.executing)) return 'NMI_EXECUTING';
  if (value === BigInt(NMI_STATE.latched)) return 'NMI_LATCHED';
  return `unknown (${value})`;
}
