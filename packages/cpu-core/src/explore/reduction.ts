import { Decoder, DecoderOptions, FlowControl, Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import type { Machine } from '../machine/machine.js';

/** Instructions that read and write registers and flags only, never fault, never wait, never talk to a device. */
const PRIVATE_MNEMONICS = new Set<Mnemonic>([
  Mnemonic.Mov, Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd, Mnemonic.Lea, Mnemonic.Xchg,
  Mnemonic.Add, Mnemonic.Adc, Mnemonic.Sub, Mnemonic.Sbb, Mnemonic.And, Mnemonic.Or, Mnemonic.Xor,
  Mnemonic.Cmp, Mnemonic.Test, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Not,
  Mnemonic.Shl, Mnemonic.Shr, Mnemonic.Sar, Mnemonic.Sal, Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Bswap, Mnemonic.Bt,
  Mnemonic.Nop, Mnemonic.Pause, Mnemonic.Jmp,
  Mnemonic.Je, Mnemonic.Jne, Mnemonic.Ja, Mnemonic.Jae, Mnemonic.Jb, Mnemonic.Jbe, Mnemonic.Jg, Mnemonic.Jge, Mnemonic.Jl, Mnemonic.Jle,
  Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jp, Mnemonic.Jnp,
  Mnemonic.Sete, Mnemonic.Setne, Mnemonic.Cmove, Mnemonic.Cmovne,
]);

const BRANCH_OR_IMMEDIATE = new Set<OpKind>([
  OpKind.NearBranch16, OpKind.NearBranch32, OpKind.NearBranch64,
  OpKind.Immediate8, OpKind.Immediate8to16, OpKind.Immediate8to32, OpKind.Immediate8to64, OpKind.Immediate16, OpKind.Immediate32, OpKind.Immediate32to64, OpKind.Immediate64,
]);

/** Segment, control, debug and other non-general registers: moving to them can fault or change translation. */
const SPECIAL_REGISTER = /^(ES|CS|SS|DS|FS|GS|CR\d+|DR\d+|TR\d|ST\d|MM\d|[XYZ]MM|K\d|BND|TMM)/;

function opKind(i: Instruction, k: number): OpKind {
  return k === 0 ? i.op0Kind : k === 1 ? i.op1Kind : k === 2 ? i.op2Kind : i.op3Kind;
}

function opRegister(i: Instruction, k: number): Register {
  return k === 0 ? i.op0Register : k === 1 ? i.op1Register : k === 2 ? i.op2Register : i.op3Register;
}

/** Whether these bytes decode to an instruction that touches only its CPU's registers and flags. */
export function registerOnly(bytes: Uint8Array, bitness: 32 | 64): boolean {
  const d = new Decoder(bitness, bytes, DecoderOptions.None);
  const i = d.decode();
  try {
    if (i.isInvalid || !PRIVATE_MNEMONICS.has(i.mnemonic) || i.stackPointerIncrement !== 0) return false;
    const flow = i.flowControl;
    if (flow !== FlowControl.Next && flow !== FlowControl.UnconditionalBranch && flow !== FlowControl.ConditionalBranch) return false;
    for (let k = 0; k < i.opCount; k++) {
      const kind = opKind(i, k);
      if (kind === OpKind.Register) {
        if (SPECIAL_REGISTER.test(Register[opRegister(i, k)])) return false;
      } else if (!BRANCH_OR_IMMEDIATE.has(kind)) return false;
    }
    return true;
  } finally {
    i.free();
    d.free();
  }
}

const TF = 1n << 8n;

/**
 * Classifies a CPU's next step as private: it will execute (not deliver an event), its
 * instruction reads and writes only that CPU's registers and flags, cannot fault, and lies
 * outside code other CPUs may rewrite. Such a step commutes with every step of every other CPU
 * (see the README for the argument). Decoding is cached per (CR3, RIP).
 */
export class PrivateSteps {
  readonly #cache = new Map<string, boolean>();
  readonly #shared: readonly (readonly [bigint, bigint])[];

  constructor(
    readonly machine: Machine,
    shared: readonly (readonly [bigint, bigint])[] = [],
  ) {
    this.#shared = shared;
  }

  isPrivate(cpu: number): boolean {
    const c = this.machine.cpus[cpu]!;
    if (c.status !== 'running' || c.nmiPending || (c.rflags & TF) !== 0n) return false;
    // A deliverable interrupt turns the step into a delivery (a stack write).
    if (c.interruptsEnabled && c.irqPending) return false;
    const rip = c.rip;
    for (const [from, to] of this.#shared) if (rip >= from && rip < to) return false;
    const key = `${c.cr3}:${rip}`;
    let v = this.#cache.get(key);
    if (v === undefined) {
      v = this.#classify(cpu, rip);
      this.#cache.set(key, v);
    }
    return v;
  }

  #classify(cpu: number, rip: bigint): boolean {
    const m = this.machine;
    const cr3 = m.cpus[cpu]!.cr3;
    const space = m.addressSpaces.find((s) => s.cr3 === cr3);
    if (!space) return false;
    let bytes: Uint8Array;
    try {
      bytes = m.readBytes(rip, 15, space);
    } catch {
      // The instruction runs to the end of a mapped page: decode what is there.
      const room = Number(0x1000n - (rip & 0xfffn));
      try {
        bytes = m.readBytes(rip, room, space);
      } catch {
        return false;
      }
    }
    return registerOnly(bytes, m.bitness);
  }
}
