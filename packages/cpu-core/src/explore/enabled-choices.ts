import type { Machine } from '../machine/machine.js';
import type { Choice, EventSource } from './model.js';

/**
 * The choices enabled at a node: runnable CPUs step; event sources with budget fire where they
 * would change what happens. Every node with the same enabled set gets the same list object
 * (keyed by the set as a bit mask), so a node costs no list of its own: the lists are shared and
 * never written (a reduced node's one-choice list is its own).
 */
export class EnabledChoices {
  readonly #m: Machine;
  readonly #events: readonly EventSource[];
  readonly #ncpu: number;
  /** Choices are immutable values: one object each, shared by every node and schedule. */
  readonly steps: readonly Choice[];
  readonly #eventChoices: readonly Choice[];
  /** The CPUs each event source may fire at, in source order. */
  readonly #eventCpus: readonly (readonly number[])[];
  readonly #lists = new Map<number, Choice[]>();
  /** Bit masks fit 31 choices; past that every node builds its list. */
  readonly #masked: boolean;

  constructor(m: Machine, events: readonly EventSource[]) {
    this.#m = m;
    this.#events = events;
    this.#ncpu = m.cpus.length;
    this.steps = m.cpus.map((_, cpu) => ({ kind: 'step', cpu }));
    this.#eventChoices = events.flatMap((s) => m.cpus.map((_, cpu) => ({ kind: 'event', source: s.name, cpu })));
    this.#eventCpus = events.map((s) => s.cpus ?? m.cpus.map((_, k) => k));
    this.#masked = this.#ncpu * (1 + events.length) <= 31;
  }

  /** The enabled choices, steps in CPU order, then each source's events in its `cpus` order. */
  at(budgets: Int32Array): Choice[] {
    if (!this.#masked) return this.#build(budgets, -1);
    const mask = this.#build(budgets, 0);
    let list = this.#lists.get(mask);
    if (list === undefined) {
      list = this.#build(budgets, -1);
      this.#lists.set(mask, list);
    }
    return list;
  }

  /** With `into` -1, the list; else the mask of the enabled choices (bit k: step of CPU k; bit ncpu·(1+i)+cpu: source i at cpu). */
  #build(budgets: Int32Array, into: -1): Choice[];
  #build(budgets: Int32Array, into: 0): number;
  #build(budgets: Int32Array, into: -1 | 0): Choice[] | number {
    const m = this.#m;
    const n = this.#ncpu;
    const out: Choice[] = [];
    let mask = 0;
    for (let cpu = 0; cpu < n; cpu++) {
      if (!m.isRunnable(cpu)) continue;
      if (into === 0) mask |= 1 << cpu;
      else out.push(this.steps[cpu]!);
    }
    for (let i = 0; i < this.#events.length; i++) {
      for (const cpu of this.#eventCpus[i]!) {
        if (budgets[i * n + cpu]! <= 0 || !offered(m, this.#events[i]!, cpu)) continue;
        if (into === 0) mask |= 1 << (n * (1 + i) + cpu);
        else out.push(this.#eventChoices[i * n + cpu]!);
      }
    }
    return into === 0 ? mask : out;
  }
}

/** Whether firing the source at this CPU now can change what happens (see EventSource). */
function offered(m: Machine, s: EventSource, cpu: number): boolean {
  const c = m.cpus[cpu]!;
  if (c.status !== 'running' && c.status !== 'halted') return false;
  if (s.kind === 'nmi' && (c.nmiBlocked || c.nmiPending)) return false;
  if (s.kind === 'irq' && (!c.interruptsEnabled || c.irqPending)) return false;
  return s.enabled ? s.enabled(m, cpu) : true;
}
