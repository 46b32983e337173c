import { decodeOne } from '../asm/disassembler.js';
import type { SymbolTable } from '../asm/symbols.js';
import { fromLoHi } from './arch.js';
import type { CpuState } from './cpu.js';
import type { Frame } from './frame.js';
import { vectorName } from './interrupts.js';
import type { DeliveryInfo, FrameWord, IretInfo, Tracer } from './tracer.js';

export type { FrameWord } from './tracer.js';

interface Base {
  /** Position in the trace (0, 1, 2, ...). */
  readonly seq: number;
  readonly cpu: number;
}

/** One observation of the machine. */
export type TraceEvent =
  | (Base & { readonly kind: 'instruction'; readonly address: bigint; readonly bytes: string; readonly text: string; readonly symbol: string | undefined })
  | (Base & {
      readonly kind: 'delivery';
      readonly vector: number;
      readonly name: string;
      readonly cause: DeliveryInfo['kind'];
      readonly errorCode: number | undefined;
      readonly ist: number;
      readonly fromCpl: number;
      readonly handler: bigint;
      /** The frame as pushed, lowest address first. */
      readonly words: readonly FrameWord[];
    })
  | (Base & { readonly kind: 'iret'; readonly toCpl: number; readonly words: readonly FrameWord[] })
  | (Base & { readonly kind: 'write'; readonly physical: bigint; readonly size: number; readonly value: bigint; readonly label: string })
  | (Base & { readonly kind: 'console'; readonly text: string })
  | (Base & { readonly kind: 'fault'; readonly vector: number; readonly name: string; readonly errorCode: number | undefined; readonly reason: string; readonly rip: bigint })
  | (Base & { readonly kind: 'nmi'; readonly what: 'raised' | 'latched' | 'dropped'; readonly source: string })
  | (Base & { readonly kind: 'death'; readonly reason: string });

export type TraceKind = TraceEvent['kind'];

/** What to record: event kinds (default all) and CPUs (default all); `limit` keeps the newest N events. */
export interface TraceFilter {
  readonly kinds?: readonly TraceKind[];
  readonly cpus?: readonly number[];
  readonly limit?: number;
}

const hex = (v: bigint): string => v.toString(16);

/** Records trace events into an array; installed on the machine only while enabled. */
export class TraceRecorder implements Tracer {
  readonly events: TraceEvent[] = [];
  #seq = 0;
  readonly #kinds: ReadonlySet<TraceKind> | undefined;
  readonly #cpus: ReadonlySet<number> | undefined;
  readonly #limit: number;

  constructor(
    filter: TraceFilter,
    private readonly symbols: () => SymbolTable,
    private readonly bitness: 32 | 64,
  ) {
    this.#kinds = filter.kinds ? new Set(filter.kinds) : undefined;
    this.#cpus = filter.cpus ? new Set(filter.cpus) : undefined;
    this.#limit = filter.limit ?? Infinity;
  }

  #wants(kind: TraceKind, cpu: number): boolean {
    return (this.#kinds === undefined || this.#kinds.has(kind)) && (this.#cpus === undefined || this.#cpus.has(cpu));
  }

  #push(e: TraceEvent): void {
    this.events.push(e);
    if (this.events.length > this.#limit) this.events.shift();
  }

  instruction(c: CpuState, lo: number, hi: number, bytes: Uint8Array): void {
    if (!this.#wants('instruction', c.id)) return;
    const address = fromLoHi(lo, hi);
    const syms = this.symbols();
    const d = decodeOne(bytes, address, this.bitness, syms);
    this.#push({ kind: 'instruction', seq: this.#seq++, cpu: c.id, address, bytes: d.bytes, text: d.text, symbol: syms.symbolize(address) });
  }

  delivery(c: CpuState, i: DeliveryInfo): void {
    if (!this.#wants('delivery', c.id)) return;
    this.#push({ kind: 'delivery', seq: this.#seq++, cpu: c.id, vector: i.vector, name: vectorName(i.vector), cause: i.kind, errorCode: i.errorCode, ist: i.ist, fromCpl: i.fromCpl, handler: i.handler, words: i.words });
  }

  iret(c: CpuState, i: IretInfo): void {
    if (this.#wants('iret', c.id)) this.#push({ kind: 'iret', seq: this.#seq++, cpu: c.id, toCpl: i.toCpl, words: i.words });
  }

  watchedWrite(c: CpuState, f: Frame, off: number, size: number, vlo: number, vhi: number): void {
    if (!this.#wants('write', c.id)) return;
    const phys = f.pfn * 4096 + off;
    for (const w of c.m.watches) {
      if (phys + size > w.phys && phys < w.phys + w.len) {
        const value = fromLoHi(vlo, vhi) & ((1n << BigInt(size * 8)) - 1n);
        this.#push({ kind: 'write', seq: this.#seq++, cpu: c.id, physical: BigInt(phys), size, value, label: w.label });
        return;
      }
    }
  }

  console(c: CpuState, text: string): void {
    if (this.#wants('console', c.id)) this.#push({ kind: 'console', seq: this.#seq++, cpu: c.id, text });
  }

  fault(c: CpuState, vector: number, code: number, reason: string): void {
    if (this.#wants('fault', c.id)) {
      this.#push({ kind: 'fault', seq: this.#seq++, cpu: c.id, vector, name: vectorName(vector), errorCode: code < 0 ? undefined : code, reason, rip: fromLoHi(c.ipLo, c.ipHi) });
    }
  }

  nmi(c: CpuState, what: 'raised' | 'latched' | 'dropped', source: string): void {
    if (this.#wants('nmi', c.id)) this.#push({ kind: 'nmi', seq: this.#seq++, cpu: c.id, what, source });
  }

  death(c: CpuState, reason: string): void {
    if (this.#wants('death', c.id)) this.#push({ kind: 'death', seq: this.#seq++, cpu: c.id, reason });
  }
}

const words = (ws: readonly FrameWord[]): string => ws.map((w) => `${w.field}=${hex(w.value)}@${hex(w.address)}`).join(' ');

/** One readable line per event. */
export function formatEvent(e: TraceEvent): string {
  const p = `[cpu${e.cpu}]`;
  switch (e.kind) {
    case 'instruction':
      return `${p} ${hex(e.address)}${e.symbol ? ` <${e.symbol}>` : ''}: ${e.bytes.padEnd(20)} ${e.text}`;
    case 'delivery':
      return `${p} deliver ${e.name} (${e.cause}${e.errorCode !== undefined ? `, error 0x${e.errorCode.toString(16)}` : ''}${e.ist ? `, IST${e.ist}` : ''}) from CPL${e.fromCpl} -> ${hex(e.handler)}; frame ${words(e.words)}`;
    case 'iret':
      return `${p} iret to CPL${e.toCpl}; popped ${words(e.words)}`;
    case 'write':
      return `${p} write ${e.label}: ${e.size} bytes at phys ${hex(e.physical)} = ${hex(e.value)}`;
    case 'console':
      return `${p} console ${JSON.stringify(e.text)}`;
    case 'fault':
      return `${p} fault ${e.name}${e.errorCode !== undefined ? ` (error 0x${e.errorCode.toString(16)})` : ''} at ${hex(e.rip)}: ${e.reason}`;
    case 'nmi':
      return `${p} NMI ${e.what} (${e.source})`;
    case 'death':
      return `${p} DEAD: ${e.reason}`;
  }
}

/** A 64-bit FNV-1a hash of the formatted trace, as 16 hex digits (for replay checks). */
export function hashTrace(events: readonly TraceEvent[]): string {
  let h = 0xcbf29ce484222325n;
  const mask = (1n << 64n) - 1n;
  for (const e of events) {
    const s = formatEvent(e);
    for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n) & mask;
    h = ((h ^ 10n) * 0x100000001b3n) & mask;
  }
  return h.toString(16).padStart(16, '0');
}
