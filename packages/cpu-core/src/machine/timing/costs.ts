/**
 * The modelled timing's figures, each with where it comes from. The machine is a 2012-era
 * part (Sandy Bridge class, like the hardware the article's kernels ran on); a figure is
 * either read from a public table ('published') or worked out from published facts with
 * the working stated ('derived'). All are in core clock cycles and can be overridden with
 * `createMachine({ costs })` by a reader who has better numbers for their own hardware.
 */
export interface CostFigure {
  readonly cycles: number;
  readonly basis: 'published' | 'derived';
  readonly source: string;
}

export interface CostTable {
  /** Any instruction not listed below. */
  readonly simple: CostFigure;
  readonly pause: CostFigure;
  readonly cpuid: CostFigure;
  /** A `lock`ed read-modify-write, or `xchg` with memory (implicitly locked), when the line is already owned. */
  readonly locked: CostFigure;
  /** wrmsr (not to an x2APIC register), lidt, mov to a control register: serialising instructions that drain the pipeline. */
  readonly serialising: CostFigure;
  /** mfence: waits for earlier loads and stores, as a locked operation does. */
  readonly fence: CostFigure;
  readonly iret: CostFigure;
  /** Delivering an exception, an NMI or an external interrupt through the IDT (on top of the instruction, if any). */
  readonly delivery: CostFigure;
  /** One iteration of a `rep movs`/`rep stos` beyond the first. */
  readonly repIteration: CostFigure;
  /** Moving a modified line from another core of the same socket. */
  readonly lineTransferLocal: CostFigure;
  /** Moving a modified line from a core of another socket. */
  readonly lineTransferRemote: CostFigure;
  /** The sender's write of the interrupt command register (one per destination, or one for a shorthand). */
  readonly icrWrite: CostFigure;
  /** From the ICR write to the interrupt being pending at the destination. */
  readonly ipiLatency: CostFigure;
}

// Where each figure was checked (issue 16, calibration): the Levinthal table and the kernel
// sources were read; the SDM section titles are those of the 2011-2016 editions (chapter
// numbers moved later); Agner Fog's Sandy Bridge rows (simple, cpuid, locked) and the
// Optimization Manual's fast-string and reorder-buffer figures could not be re-read with the
// tools of that session and are cited by table and row only.
const AGNER = "Agner Fog, 'Instruction tables: lists of instruction latencies, throughputs and micro-operation breakdowns for Intel, AMD and VIA CPUs' (www.agner.org/optimize/instruction_tables.pdf), section 'Intel Sandy Bridge'";
const OPT = 'Intel 64 and IA-32 Architectures Optimization Reference Manual (order 248966)';
const NHM_GUIDE = "D. Levinthal, 'Performance Analysis Guide for Intel Core i7 Processor and Intel Xeon 5500 processors' (Intel, 2009), page 22, table 'Data Source Latency (approximate)' (Nehalem figures; Sandy Bridge's are of the same order)";
/** Sandy Bridge's reorder buffer holds 168 micro-ops (OPT): a serialising event waits for it to drain. */
const ROB_DRAIN = 168;

export const MODELLED_COSTS: CostTable = {
  simple: { cycles: 1, basis: 'published', source: `${AGNER}, integer instructions: register ALU operations (ADD, SUB, AND, OR, XOR, INC, DEC, CMP, TEST), MOV r,r and taken branches, latency 1` },
  pause: { cycles: 10, basis: 'published', source: `${OPT}, section 'Pause Latency in Skylake Client Microarchitecture' (2.5.4 or 2.3.4 depending on the edition): PAUSE took about 10 cycles on the generations before Skylake, as many as 140 on Skylake` },
  cpuid: { cycles: 175, basis: 'published', source: `${AGNER}, row CPUID: latency 100-250 cycles depending on the leaf; the model takes the midpoint` },
  locked: { cycles: 22, basis: 'published', source: `${AGNER}, rows LOCK CMPXCHG m,r (about 22), XCHG r,m (implicitly locked, 25) and LOCK ADD/XADD m,r (the same range): the model charges 22 for any of them` },
  serialising: { cycles: ROB_DRAIN, basis: 'derived', source: `Intel SDM vol. 3A section 8.3 'Serializing Instructions': WRMSR (but not to the x2APIC registers, MSRs 0x800-0x8FF, which section 10.12.3 exempts), LIDT and MOV to a control register complete every earlier instruction before the next is fetched; the model charges a drain of Sandy Bridge's 168-entry reorder buffer (${OPT}, section 2.2, the Sandy Bridge out-of-order engine) at one micro-op per cycle` },
  iret: { cycles: ROB_DRAIN, basis: 'derived', source: "Intel SDM vol. 3A section 8.3 'Serializing Instructions' lists IRET with CPUID and RSM as non-privileged serializing instructions: charged as one reorder-buffer drain, like the privileged ones" },
  delivery: { cycles: ROB_DRAIN + 32, basis: 'derived', source: `Intel SDM vol. 3A sections 6.12 'Exception and Interrupt Handling' and 6.14 'Exception and Interrupt Handling in 64-bit Mode': the processor reads the IDT gate and pushes a 5-6 word frame; the model treats delivery as serialising (a reorder-buffer drain, 168) and charges those ~8 memory accesses at the 4-cycle L1 latency (${NHM_GUIDE}: 'local L1 CACHE hit ~4 cycles')` },
  fence: { cycles: 22, basis: 'derived', source: `MFENCE, charged as a locked operation (no figure re-read for this generation): it waits for every earlier load and store to be globally visible (Intel SDM vol. 3A section 8.2.5 'Strengthening or Weakening the Memory-Ordering Model'), as a locked instruction does, and is charged the same as \`locked\` (22)` },
  repIteration: { cycles: 1, basis: 'published', source: `${OPT}, fast-string operation of REP MOVS/STOS: about one element per cycle for short and medium counts` },
  lineTransferLocal: { cycles: 75, basis: 'published', source: `${NHM_GUIDE}: 'local L3 CACHE hit, modified in another core ~75 cycles'` },
  lineTransferRemote: { cycles: 300, basis: 'published', source: `${NHM_GUIDE}: 'remote L3 CACHE ~100-300 cycles' (a hit in the other socket's L3, whatever the line's state); the model takes the upper end, as the line is modified there and must be fetched and invalidated` },
  icrWrite: { cycles: 100, basis: 'derived', source: "Intel SDM vol. 3A section 10.6.1 'Interrupt Command Register (ICR)': in xAPIC mode the ICR is written through the uncacheable APIC page (section 10.4.1), in x2APIC mode with WRMSR to MSR 0x830 (section 10.12); charged as ~100 cycles, the order of an uncacheable store on this generation (no published figure)" },
  ipiLatency: { cycles: 2000, basis: 'derived', source: 'not published for this generation: the interrupt crosses the APIC bus or the ring/QPI and is accepted at an instruction boundary of the target; the model assumes ~1 us at 2 GHz. Override it with `costs.ipiLatency` for your hardware' },
};

/** Today's model, kept for tests that reason in instructions: every instruction one `cyclesPerInstruction`, pause 11. */
export function flatCosts(cpi: number): CostTable {
  const f = (cycles: number, source: string): CostFigure => ({ cycles, basis: 'derived', source });
  const one = f(cpi, 'flat timing: one cyclesPerInstruction');
  return {
    simple: one,
    pause: f(11 * cpi, 'flat timing: pause waits ten extra instruction slots'),
    cpuid: one,
    locked: one,
    serialising: one,
    fence: one,
    iret: one,
    delivery: f(0, 'flat timing: delivery is part of the step that delivers'),
    repIteration: one,
    lineTransferLocal: f(0, 'flat timing: no caches'),
    lineTransferRemote: f(0, 'flat timing: no caches'),
    icrWrite: f(0, 'flat timing: the ICR write is part of the instruction'),
    ipiLatency: f(0, 'flat timing: the IPI arrives inside the sending instruction'),
  };
}
