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
  /** wrmsr, lidt, mov to a control register: serialising instructions that drain the pipeline. */
  readonly serialising: CostFigure;
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

const AGNER = "Agner Fog, 'Instruction tables' (www.agner.org/optimize), Sandy Bridge section";
const OPT = 'Intel 64 and IA-32 Architectures Optimization Reference Manual (order 248966)';
const NHM_GUIDE = "D. Levinthal, 'Performance Analysis Guide for Intel Core i7 Processor and Intel Xeon 5500 processors' (Intel, 2009), load latency table";
/** Sandy Bridge's reorder buffer holds 168 micro-ops (OPT): a serialising event waits for it to drain. */
const ROB_DRAIN = 168;

export const MODELLED_COSTS: CostTable = {
  simple: { cycles: 1, basis: 'published', source: `${AGNER}: register ALU operations, moves and taken branches have a latency of 1 cycle` },
  pause: { cycles: 10, basis: 'published', source: `${OPT}, 'Pause latency in Skylake microarchitecture': about 10 cycles on the generations before Skylake (140 from Skylake on)` },
  cpuid: { cycles: 175, basis: 'published', source: `${AGNER}: CPUID 100-250 cycles depending on the leaf; the midpoint` },
  locked: { cycles: 22, basis: 'published', source: `${AGNER}: LOCK CMPXCHG m,r about 22 cycles, XCHG m,r 25; LOCK ADD/XADD in the same range` },
  serialising: { cycles: ROB_DRAIN, basis: 'derived', source: `Intel SDM vol. 3A section 8.3: a serialising instruction completes all earlier instructions before the next is fetched; the model charges a drain of the 168-entry reorder buffer (${OPT}, Sandy Bridge microarchitecture) at one micro-op per cycle` },
  iret: { cycles: ROB_DRAIN, basis: 'derived', source: 'Intel SDM vol. 3A section 8.3 lists IRET as serialising: charged as one reorder-buffer drain, like the other serialising instructions' },
  delivery: { cycles: ROB_DRAIN + 32, basis: 'derived', source: 'Intel SDM vol. 3A sections 6.12 and 6.14: delivery flushes the pipeline (a reorder-buffer drain) then reads the gate and pushes a 5-6 word frame; each of those ~8 memory accesses charged at the 4-cycle L1 latency (the Sandy Bridge load latency in the Optimization Manual)' },
  repIteration: { cycles: 1, basis: 'published', source: `${OPT}, fast-string operation: REP MOVS/STOS move about one element per cycle for short and medium counts` },
  lineTransferLocal: { cycles: 75, basis: 'published', source: `${NHM_GUIDE}: an L3 hit on a line modified in another core of the socket, ~75 cycles` },
  lineTransferRemote: { cycles: 300, basis: 'published', source: `${NHM_GUIDE}: a line modified in a cache of the other socket, ~100-300 cycles; the upper end, as the line must be fetched and invalidated` },
  icrWrite: { cycles: 100, basis: 'derived', source: 'Intel SDM vol. 3A section 10.6.1: the ICR is written through an uncacheable (xAPIC MMIO) or MSR (x2APIC) access, which waits for earlier stores; charged as ~100 cycles, the order of an uncacheable store on this generation' },
  ipiLatency: { cycles: 2000, basis: 'derived', source: 'the interrupt crosses the APIC bus or the ring/QPI and is accepted at an instruction boundary; ~1 us at 2 GHz, the order reported for x86 IPI round trips (e.g. Baumann et al., "The Multikernel", SOSP 2009); no single public figure, so override it with `costs.ipiLatency` for your hardware' },
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
    iret: one,
    delivery: f(0, 'flat timing: delivery is part of the step that delivers'),
    repIteration: one,
    lineTransferLocal: f(0, 'flat timing: no caches'),
    lineTransferRemote: f(0, 'flat timing: no caches'),
    icrWrite: f(0, 'flat timing: the ICR write is part of the instruction'),
    ipiLatency: f(0, 'flat timing: the IPI arrives inside the sending instruction'),
  };
}
