/** The patch table the #BP handler and the patchers share (our `struct text_poke_loc`). */

/** A patch-table entry (`struct text_poke_loc`, our layout): 64 bytes. */
export const ENTRY = {
  size: 64,
  shift: 6,
  addr: 0,
  len: 8,
  mode: 9,
  /** Bytes of whole instructions the new one replaces (more than `len` for an optimized kprobe). */
  span: 10,
  /** Signed 32-bit distance from `addr` to where the bytes are written (a writable alias of read-only text, as text_poke's fixmap), 0 for writable text. */
  pokeDelta: 12,
  newBytes: 16,
  handler: 24,
  /** The bytes the site must hold before the patch (the callers' compare: 3.3 `ftrace_modify_code`, 3.13 `add_break` / `__jump_label_transform`). */
  oldBytes: 32,
} as const;

export const BP_MODE = { skip: 0, handler: 1, emulate: 2 } as const;
export type BpMode = keyof typeof BP_MODE;

