// A floor for the quantum-1 step, not a machine: the kernel mix's fourteen instructions (call,
// push, mov, nop, %gs load, pop, ret, locked %gs increment, mov, rdmsr, shl, load-add, compare,
// je) as a switch over pre-decoded opcodes, with every CPU's registers, instruction pointer,
// counters, stack and per-CPU words in flat typed arrays indexed by CPU number. No flags, no
// TLB or page walk, no cycle model, no decode cache, no faults, no schedule log. It measures what
// the host gives a round-robin step that does nothing but the instruction's own loads and
// stores, so the bench can print how much of a step kernsim's design spends around them.

import { R } from '../src/machine/arch.js';

const enum Op {
  Call,
  LockIncGs,
  MovEcxImm,
  Rdmsr,
  Shl,
  AddRaxData,
  CmpData,
  Je,
  PushRbp,
  MovRbpRsp,
  Nop,
  MovRaxGs,
  PopRbp,
  Ret,
}

/** The mix in the order a CPU runs it: `start` calls `func` (push … ret), then the rest jumps back to `start`. */
const PROGRAM: readonly Op[] = [Op.Call, Op.PushRbp, Op.MovRbpRsp, Op.Nop, Op.MovRaxGs, Op.PopRbp, Op.Ret, Op.LockIncGs, Op.MovEcxImm, Op.Rdmsr, Op.Shl, Op.AddRaxData, Op.CmpData, Op.Je];
const { RAX, RCX, RSP, RBP } = R;
/** 32-bit words per CPU: sixteen registers, low and high halves. */
const REGS = 32;
/** Words per 4 KiB page; each CPU has a stack page and a per-CPU page. */
const PAGE = 1024;

/** The floor machine: its arrays, and `run(steps)` stepping CPUs round-robin from CPU 0. */
function floorMachine(cpus: number): { run: (steps: number) => void; counter: () => number } {
  const regs = new Uint32Array(cpus * REGS);
  const ip = new Int32Array(cpus);
  const zf = new Uint8Array(cpus);
  const counters = new Float64Array(cpus * 2);
  const memory = new Int32Array(cpus * 2 * PAGE);
  const shared = new Int32Array(PAGE);
  for (let c = 0; c < cpus; c++) regs[c * REGS + RSP] = 4096 - 64;
  const step = (c: number): void => {
    const b = c * REGS;
    const stack = c * 2 * PAGE;
    const percpu = stack + PAGE;
    const at = ip[c]!;
    switch (PROGRAM[at]) {
      case Op.Call:
      case Op.PushRbp: {
        const sp = regs[b + RSP]! - 8;
        regs[b + RSP] = sp;
        memory[stack + (sp >>> 2)] = at === 0 ? 7 : regs[b + RBP]!;
        break;
      }
      case Op.PopRbp:
      case Op.Ret: {
        const sp = regs[b + RSP]!;
        const v = memory[stack + (sp >>> 2)]!;
        regs[b + RSP] = sp + 8;
        if (PROGRAM[at] === Op.PopRbp) regs[b + RBP] = v;
        break;
      }
      case Op.LockIncGs:
        memory[percpu + 2] = (memory[percpu + 2]! + 1) | 0;
        break;
      case Op.MovRaxGs:
        regs[b + RAX] = memory[percpu]!;
        break;
      case Op.MovRbpRsp:
        regs[b + RBP] = regs[b + RSP]!;
        break;
      case Op.MovEcxImm:
        regs[b + RCX] = 0x802;
        break;
      case Op.Rdmsr:
        regs[b + RAX] = c;
        break;
      case Op.Shl:
        regs[b + RAX] = regs[b + RAX]! << 3;
        break;
      case Op.AddRaxData:
        regs[b + RAX] = (regs[b + RAX]! + shared[0]!) >>> 0;
        break;
      case Op.CmpData:
        zf[c] = shared[2] === 0 ? 1 : 0;
        break;
      default:
    }
    ip[c] = at === PROGRAM.length - 1 ? 0 : at + 1;
    counters[c * 2]!++;
    counters[c * 2 + 1]! += 1;
  };
  const run = (steps: number): void => {
    let c = 0;
    for (let s = 0; s < steps; s++) {
      step(c);
      c = c + 1 === cpus ? 0 : c + 1;
    }
  };
  return { run, counter: () => memory[PAGE + 2]! };
}

/** Round-robin steps per second (millions) of the floor on `cpus` CPUs: best of three rounds, process CPU time. */
export function stepFloor(cpus: number, steps = 20_000_000): number {
  const f = floorMachine(cpus);
  f.run(cpus * 64);
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = process.cpuUsage();
    f.run(steps);
    const used = process.cpuUsage(t0);
    best = Math.max(best, steps / ((used.user + used.system) / 1e6) / 1e6);
  }
  // Every CPU ran the mix: its locked per-CPU counter moved (the work was not optimised away).
  if (f.counter() === 0) throw new Error('step floor: the mix did not run');
  return best;
}
