/** Entries of the kprobe table (machine words): probed address, pre-handler, out-of-line slot. */
export const KPROBE = { addr: 0, handler: 1, slot: 2, words: 3 } as const;

/** Probes the table can hold. */
export const KPROBE_SLOTS = 8;
