import { blockAt, runBlock } from './block.js';
import type { CpuState } from './cpu.js';
import { FL_IF, FL_TF, HALTED, RUNNING } from './cpu.js';
import { arriveIpis, raiseIrq, raiseNmi } from './events.js';
import { fetchOp, instructionBytes } from './fetch.js';
import { deliverException, deliverIrq, deliverNmi } from './interrupts.js';
import { FAULT } from './op.js';

/*
 * The cycle model. Every way of running a CPU — `step()`, the round-robin burst, the random
 * scheduler, replay — goes through `step` or `burst` below, and both charge a step the same
 * way: the instruction's cost from the decode cache (plus what its semantics add: line
 * transfers, serial bytes, rep iterations), or `timing.eventStep` for a step that delivers an
 * event or a fault, or `timing.idleStep` for a halted CPU; then, after every step, the timed
 * sources whose time has come fire. So a recorded schedule replays to the same clock.
 */

/** After a step's cycles are charged: fire what is due. */
function retire(c: CpuState): void {
  if (c.cycles >= c.nextEvent) timedEvents(c);
}

/**
 * One scheduling step of one CPU: deliver a pending event, or execute one instruction.
 *
 * `step`, `execute` and `fetchOp` (fetch.ts) keep only the common case in their own bodies and
 * call out for the rest, so that V8 inlines all three into the round-robin loop within its
 * inlining budget: measured, a call to `execute` cost 40 of a quantum-1 step's ~550 host
 * instructions.
 */
export function step(c: CpuState): void {
  // The common case first: a running CPU with nothing pending executes its next instruction.
  if (c.state === RUNNING && !c.nmiPending && c.irqCount === 0) execute(c);
  else stepEvent(c);
}

/** The rest of `step`: a halted CPU waits or wakes, a pending NMI or interrupt is delivered. */
function stepEvent(c: CpuState): void {
  const t = c.m.timing;
  if (c.state !== RUNNING) {
    if (c.state !== HALTED) return;
    if (c.nmiPending || (c.irqCount > 0 && (c.fl & FL_IF) !== 0)) c.state = RUNNING;
    else {
      // Modelled: hlt waits, so the clock runs to the next wake-up source in one step (flat: one slot per step).
      c.cycles = t.kind === 'modelled' && c.nextEvent !== Infinity && c.nextEvent > c.cycles + t.idleStep ? c.nextEvent : c.cycles + t.idleStep;
      retire(c);
      return;
    }
  }
  if (c.nmiPending && !c.nmiBlocked) {
    c.nmiPending = false;
    c.nmi[1]!++;
    deliverNmi(c);
    c.cycles += t.eventStep;
    retire(c);
    return;
  }
  if (c.irqCount > 0 && (c.fl & FL_IF) !== 0) {
    for (let v = 255; v >= 0; v--) {
      if (c.irq[v] !== 0) {
        c.irq[v] = 0;
        c.irqCount--;
        deliverIrq(c, v);
        break;
      }
    }
    c.cycles += t.eventStep;
    retire(c);
    return;
  }
  execute(c);
}

/** The instruction part of `step`: fetch, trace, execute, charge; a fault is delivered as the step. */
function execute(c: CpuState): void {
  // TF at the start of an instruction makes it trap with #DB once it completes (SDM vol. 3, 17.3.1.4).
  const singleStep = (c.fl & FL_TF) !== 0;
  try {
    const op = fetchOp(c);
    if (c.m.tracer !== null) traceInstruction(c, op.len);
    op.exec(c);
    c.instructions++;
    c.cycles += op.cost;
    if (singleStep && c.state === RUNNING) singleStepTrap(c);
  } catch (e) {
    faulted(c, e);
  }
  retire(c);
}

function traceInstruction(c: CpuState, len: number): void {
  c.m.tracer!.instruction(c, c.ipLo, c.ipHi, instructionBytes(c, len));
}

/** TF was set when the instruction began: #DB after it (a trap). */
function singleStepTrap(c: CpuState): void {
  c.fVector = 1;
  c.fCode = -1;
  c.fReason = 'single step (TF)';
  deliverException(c);
  c.cycles += c.m.timing.delivery;
}

/** An instruction faulted (`FAULT` thrown, vector and error code on the CPU): the delivery is the step. */
function faulted(c: CpuState, e: unknown): void {
  if (e !== FAULT) throw e;
  deliverException(c);
  c.cycles += c.m.timing.eventStep;
}

/** Periodic per-CPU sources (the perf-counter/watchdog NMI, the APIC timer) and IPIs arriving. */
export function timedEvents(c: CpuState): void {
  while (c.cycles >= c.nextNmi) {
    raiseNmi(c, 'perf counter');
    c.nextNmi += c.nmiPeriod;
  }
  while (c.cycles >= c.nextTimer) {
    raiseIrq(c, c.timerVector);
    c.nextTimer += c.timerPeriod;
  }
  arriveIpis(c);
  c.refreshNextEvent();
}

/** Whether stepping this CPU can make progress (running, or halted with something to wake it). */
export function runnable(c: CpuState): boolean {
  if (c.state === RUNNING) return true;
  if (c.state !== HALTED) return false;
  return c.nmiPending || (c.irqCount > 0 && (c.fl & FL_IF) !== 0) || c.nextEvent !== Infinity;
}

/**
 * Runs up to `n` steps of one CPU back to back. Instructions that need no boundary work (no
 * pending event, no trace, no TF) run in a tight loop; it charges exactly what `step` charges
 * and leaves the loop as soon as a timed source is due, so the result is the same as `n`
 * calls of `step`. Hot straight-line code runs as basic blocks (`block.ts`), which stop at the
 * same boundaries. Returns how many steps it took.
 */
export function burst(c: CpuState, n: number): number {
  const m = c.m;
  let i = 0;
  while (i < n) {
    if (!runnable(c)) return i;
    if (c.state !== RUNNING || c.nmiPending || c.irqCount !== 0 || m.tracer !== null || (c.fl & FL_TF) !== 0) {
      step(c);
      i++;
      continue;
    }
    // Inside the try every instruction that completes counts one step and one instruction, so
    // the steps a block took (and where a fault stopped it) are read off `c.instructions`.
    const i0 = i - c.instructions;
    try {
      while (i < n) {
        const b = m.blocks ? blockAt(c) : null;
        if (b !== null) {
          runBlock(b, c, n - i);
          i = i0 + c.instructions;
        } else {
          const op = fetchOp(c);
          op.exec(c);
          c.instructions++;
          c.cycles += op.cost;
          i++;
        }
        if (c.cycles >= c.nextEvent || needsBoundaryWork(c)) break;
      }
    } catch (e) {
      if (e !== FAULT) throw e;
      deliverException(c);
      c.cycles += m.timing.eventStep;
      i = i0 + c.instructions + 1;
    }
    retire(c);
  }
  return i;
}

function needsBoundaryWork(c: CpuState): boolean {
  return c.state !== RUNNING || c.nmiPending || c.irqCount !== 0 || (c.fl & FL_TF) !== 0;
}
