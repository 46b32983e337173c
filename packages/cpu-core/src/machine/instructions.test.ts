import { describe, expect, it } from 'vitest';
import type { Assembler } from '../asm/assembler.js';
import { disassemble } from '../asm/disassembler.js';
import { byte, dword, imm, mem, qword, reg } from '../asm/operands.js';
import { MSR } from './arch.js';
import type { RegName } from './cpu-view.js';
import { kit, LAYOUT32, LAYOUT64 } from '../testing/kit.js';

const { rax, rbx, rcx, rdx, eax, ebx, ecx, edx, ax, al, ah, bl, cl, esp } = reg;
const CF = 1n;
const PF = 4n;
const AF = 0x10n;
const ZF = 0x40n;
const SF = 0x80n;
const OF = 0x800n;
const IF = 0x200n;
const DF = 0x400n;
const D64 = LAYOUT64.data;
const D32 = LAYOUT32.data;

interface Row {
  readonly name: string;
  /** Mnemonic the assembled bytes must decode back to (first instruction of `code`). */
  readonly decodes?: string;
  readonly code: (a: Assembler) => void;
  readonly regs?: Partial<Record<RegName, bigint>>;
  readonly flagsIn?: bigint;
  readonly memIn?: readonly (readonly [bigint, 1 | 2 | 4 | 8, bigint])[];
  readonly expect: Partial<Record<RegName, bigint>>;
  /** Flags that must be set / clear afterwards. */
  readonly set?: bigint;
  readonly clear?: bigint;
  readonly mem?: readonly (readonly [bigint, 1 | 2 | 4 | 8, bigint])[];
  readonly console?: string;
  readonly gsBase?: bigint;
}

function run(arch: 'x86_64' | 'i386', row: Row) {
  const k = kit({ arch, serial: { cyclesPerByte: 10 } });
  const a = k.asm();
  a.label('start');
  row.code(a);
  a.hlt();
  const code = a.assemble();
  k.m.loadCode(code);
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  const cpu = k.m.cpus[0]!;
  for (const [r, v] of Object.entries(row.regs ?? {})) cpu.setReg(r as RegName, v);
  if (row.flagsIn !== undefined) cpu.rflags = row.flagsIn;
  if (row.gsBase !== undefined) cpu.gsBase = row.gsBase;
  for (const [addr, size, v] of row.memIn ?? []) k.m.write(addr, size, v);
  const r = k.m.run({ steps: 10_000 });
  return { k, cpu, code, r };
}

const rows64: Row[] = [
  { name: 'mov r64, imm (movabs)', decodes: 'movabs', code: (a) => a.movabs(rax, 0x1122334455667788n), expect: { rax: 0x1122334455667788n } },
  { name: 'mov r32 zero-extends', decodes: 'mov', code: (a) => a.mov(eax, imm(5)), regs: { rax: -1n }, expect: { rax: 5n } },
  { name: 'mov r16 keeps the rest', code: (a) => a.mov(ax, imm(0x1234)), regs: { rax: -1n }, expect: { rax: 0xffffffffffff1234n } },
  { name: 'mov al/ah', code: (a) => a.mov(al, imm(0x11)).mov(ah, imm(0x22)), regs: { rax: 0xffffn << 16n }, expect: { rax: 0xffff2211n } },
  { name: 'mov store/load', code: (a) => a.mov(qword(D64), rbx).mov(rcx, qword(D64)), regs: { rbx: 0xdeadbeefcafef00dn }, expect: { rcx: 0xdeadbeefcafef00dn }, mem: [[D64, 8, 0xdeadbeefcafef00dn]] },
  { name: 'mov %gs:off', decodes: 'mov', code: (a) => a.mov(rax, qword.gs(0x10)), gsBase: D64, memIn: [[D64 + 0x10n, 8, 0x4242n]], expect: { rax: 0x4242n } },
  { name: 'lea base+index*scale+disp', decodes: 'lea', code: (a) => a.lea(rax, mem(rbx, rcx, 4, 8)), regs: { rbx: 0x1000n, rcx: 3n }, expect: { rax: 0x1014n } },
  { name: 'push/pop', decodes: 'push', code: (a) => a.push(rbx).pop(rcx), regs: { rbx: 77n }, expect: { rcx: 77n } },
  { name: 'push imm sign-extends', code: (a) => a.push(imm(-2)).pop(rcx), expect: { rcx: 0xfffffffffffffffen } },
  { name: 'pushf/popf', decodes: 'pushf', code: (a) => a.pushf().pop(rax).push(imm(0x8c5)).popf(), expect: { rax: 0x2n | 0x41n }, flagsIn: 0x43n, set: CF | PF | ZF | SF | OF },
  { name: 'add 64 carry+zero', decodes: 'add', code: (a) => a.add(rax, imm(1)), regs: { rax: -1n }, expect: { rax: 0n }, set: CF | ZF | PF | AF, clear: SF | OF },
  { name: 'add 64 signed overflow', code: (a) => a.add(rax, rbx), regs: { rax: 0x7fffffffffffffffn, rbx: 1n }, expect: { rax: 0x8000000000000000n }, set: OF | SF, clear: CF | ZF },
  { name: 'add 32 wraps and zero-extends', code: (a) => a.add(eax, imm(1)), regs: { rax: 0xffffffffn }, expect: { rax: 0n }, set: CF | ZF },
  { name: 'add 8 overflow', code: (a) => a.add(al, imm(1)), regs: { rax: 0x7fn }, expect: { rax: 0x80n }, set: OF | SF | AF, clear: CF },
  { name: 'add to memory', code: (a) => a.add(qword(D64), imm(5)), memIn: [[D64, 8, 10n]], expect: {}, mem: [[D64, 8, 15n]] },
  { name: 'sub borrow', decodes: 'sub', code: (a) => a.sub(rax, imm(1)), regs: { rax: 0n }, expect: { rax: 0xffffffffffffffffn }, set: CF | SF, clear: ZF | OF },
  { name: 'cmp sets flags only', decodes: 'cmp', code: (a) => a.cmp(rax, imm(7)), regs: { rax: 5n }, expect: { rax: 5n }, set: CF | SF, clear: ZF },
  { name: 'cmp equal', code: (a) => a.cmp(rax, rbx), regs: { rax: 9n, rbx: 9n }, expect: {}, set: ZF, clear: CF | SF },
  { name: 'and', decodes: 'and', code: (a) => a.and(rax, imm(0xf0)), regs: { rax: 0x1ffn }, flagsIn: 0x803n, expect: { rax: 0xf0n }, clear: CF | OF | ZF },
  { name: 'or', decodes: 'or', code: (a) => a.or(rax, rbx), regs: { rax: 0x100000000n, rbx: 1n }, expect: { rax: 0x100000001n }, clear: ZF },
  { name: 'xor self', decodes: 'xor', code: (a) => a.xor(eax, eax), regs: { rax: -1n }, expect: { rax: 0n }, set: ZF | PF },
  { name: 'test', decodes: 'test', code: (a) => a.test(rax, imm(1)), regs: { rax: 2n }, expect: { rax: 2n }, set: ZF },
  { name: 'inc keeps CF', decodes: 'inc', code: (a) => a.inc(rax), regs: { rax: -1n }, flagsIn: 0x3n, expect: { rax: 0n }, set: CF | ZF },
  { name: 'dec keeps CF', decodes: 'dec', code: (a) => a.dec(rax), regs: { rax: 0n }, flagsIn: 0x2n, expect: { rax: -1n & 0xffffffffffffffffn }, clear: CF, set: SF },
  { name: 'neg', decodes: 'neg', code: (a) => a.neg(rax), regs: { rax: 5n }, expect: { rax: 0xfffffffffffffffbn }, set: CF | SF },
  { name: 'neg 0', code: (a) => a.neg(rax), regs: { rax: 0n }, expect: { rax: 0n }, set: ZF, clear: CF },
  { name: 'not', decodes: 'not', code: (a) => a.not(rax), regs: { rax: 0xff00n }, expect: { rax: 0xffffffffffff00ffn } },
  { name: 'shl 64 by imm', decodes: 'shl', code: (a) => a.shl(rax, imm(4)), regs: { rax: 0xf000000000000001n }, expect: { rax: 0x10n }, set: CF },
  { name: 'shr 64 by cl', decodes: 'shr', code: (a) => a.shr(rax, cl), regs: { rax: 0x8000000000000000n, rcx: 63n }, expect: { rax: 1n }, clear: CF | ZF },
  { name: 'shr 32 by 1', code: (a) => a.shr(eax, imm(1)), regs: { rax: 3n }, expect: { rax: 1n }, set: CF },
  { name: 'sar 64', decodes: 'sar', code: (a) => a.sar(rax, imm(8)), regs: { rax: 0x8000000000000000n }, expect: { rax: 0xff80000000000000n }, set: SF },
  { name: 'movzx', decodes: 'movzb', code: (a) => a.movzx(eax, bl), regs: { rax: -1n, rbx: 0x1ffn }, expect: { rax: 0xffn } },
  { name: 'movsx', decodes: 'movsb', code: (a) => a.movsx(rax, byte(D64)), memIn: [[D64, 1, 0x80n]], expect: { rax: 0xffffffffffffff80n } },
  { name: 'jmp', decodes: 'jmp', code: (a) => a.jmp('.t').mov(rax, imm(1)).label('.t').mov(rbx, imm(2)), expect: { rax: 0n, rbx: 2n } },
  { name: 'jcc taken/not taken', code: (a) => a.cmp(rax, imm(1)).je('.t').mov(rbx, imm(9)).label('.t').jne('.u').mov(rcx, imm(7)).label('.u'), regs: { rax: 1n }, expect: { rbx: 0n, rcx: 7n } },
  { name: 'jl/jg signed', code: (a) => a.cmp(rax, imm(1)).jl('.t').mov(rbx, imm(9)).label('.t'), regs: { rax: -5n }, expect: { rbx: 0n } },
  { name: 'jb/ja unsigned', code: (a) => a.cmp(rax, imm(1)).ja('.t').mov(rbx, imm(9)).label('.t'), regs: { rax: -5n }, expect: { rbx: 0n } },
  { name: 'call/ret', decodes: 'call', code: (a) => a.call('.f').mov(rbx, imm(1)).jmp('.end').label('.f').mov(rax, imm(3)).ret().label('.end'), expect: { rax: 3n, rbx: 1n } },
  { name: 'indirect call/jmp', code: (a) => a.lea(rdx, qword(reg.rip, '.f')).call(rdx).jmp('.end').label('.f').mov(rax, imm(4)).ret().label('.end'), expect: { rax: 4n } },
  { name: 'lock cmpxchg success', decodes: 'cmpxchg', code: (a) => a.lock().cmpxchg(qword(D64), rcx), regs: { rax: 1n, rcx: 2n }, memIn: [[D64, 8, 1n]], expect: { rax: 1n }, set: ZF, mem: [[D64, 8, 2n]] },
  { name: 'cmpxchg failure loads rax', code: (a) => a.cmpxchg(qword(D64), rcx), regs: { rax: 5n, rcx: 2n }, memIn: [[D64, 8, 1n]], expect: { rax: 1n }, clear: ZF, mem: [[D64, 8, 1n]] },
  { name: 'xchg', decodes: 'xchg', code: (a) => a.xchg(qword(D64), rcx), regs: { rcx: 2n }, memIn: [[D64, 8, 9n]], expect: { rcx: 9n }, mem: [[D64, 8, 2n]] },
  { name: 'xadd', decodes: 'xadd', code: (a) => a.lock().xadd(qword(D64), rcx), regs: { rcx: 2n }, memIn: [[D64, 8, 9n]], expect: { rcx: 9n }, mem: [[D64, 8, 11n]] },
  { name: 'cpuid vendor', decodes: 'cpuid', code: (a) => a.cpuid(), regs: { rax: 0n }, expect: { rbx: 0x756e6547n, rdx: 0x49656e69n, rcx: 0x6c65746en } },
  { name: 'std/cld', decodes: 'std', code: (a) => a.std(), expect: {}, set: DF },
  { name: 'cld', decodes: 'cld', code: (a) => a.cld(), flagsIn: 0x402n, expect: {}, clear: DF },
  { name: 'cli/sti', decodes: 'cli', code: (a) => a.cli().sti(), expect: {}, set: IF },
  { name: 'rep stosq', code: (a) => a.rep().stosq(), regs: { rax: 0x55n, rcx: 3n, rdi: D64 }, expect: { rcx: 0n, rdi: D64 + 24n }, mem: [[D64, 8, 0x55n], [D64 + 16n, 8, 0x55n], [D64 + 24n, 8, 0n]] },
  { name: 'rep movsb', code: (a) => a.rep().movsb(), regs: { rsi: D64, rdi: D64 + 0x100n, rcx: 4n }, memIn: [[D64, 4, 0x44332211n]], expect: { rcx: 0n }, mem: [[D64 + 0x100n, 4, 0x44332211n]] },
  { name: 'std + movsq goes down', code: (a) => a.std().movsq(), regs: { rsi: D64 + 8n, rdi: D64 + 0x108n }, memIn: [[D64 + 8n, 8, 7n]], expect: { rsi: D64, rdi: D64 + 0x100n }, mem: [[D64 + 0x108n, 8, 7n]] },
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n): Row => ({ name: `nop ${n} bytes`, decodes: n === 2 ? 'xchg' : 'nop', code: (a) => a.nop(n).mov(rax, imm(n)), expect: { rax: BigInt(n) } })),
  { name: 'pause', decodes: 'pause', code: (a) => a.pause().mov(rax, imm(1)), expect: { rax: 1n } },
  { name: 'wrmsr/rdmsr GS base', decodes: 'wrmsr', code: (a) => a.wrmsr().xor(eax, eax).xor(edx, edx).rdmsr(), regs: { rcx: BigInt(MSR.GS_BASE), rax: 0x1000n, rdx: 0xffff8800n }, expect: { rax: 0x1000n, rdx: 0xffff8800n } },
  { name: 'mov to/from cr2', code: (a) => a.mov(reg.cr2, rax).mov(rbx, reg.cr2), regs: { rax: 0xffffc90000001000n }, expect: { rbx: 0xffffc90000001000n } },
  { name: 'out to the serial port', code: (a) => a.mov(edx, imm(0x3f8)).mov(al, imm(0x41)).out(reg.dx, al), expect: {}, console: 'A' },
  { name: 'rdtsc', code: (a) => a.nop().rdtsc(), expect: { rax: 1n, rdx: 0n } },
];

describe('x86_64 instruction subset: bytes decode back and execute with the documented effect', () => {
  for (const row of rows64) {
    it(row.name, () => {
      const { k, cpu, code } = run('x86_64', row);
      if (row.decodes) expect(disassemble(code.bytes, { origin: code.origin, bitness: 64 })[0]!.mnemonic).toMatch(new RegExp(`^${row.decodes}`));
      expect(cpu.status).toBe('halted');
      for (const [r, v] of Object.entries(row.expect)) expect(cpu.reg(r as RegName), r).toBe(BigInt.asUintN(64, v));
      if (row.set !== undefined) expect(cpu.rflags & row.set).toBe(row.set);
      if (row.clear !== undefined) expect(cpu.rflags & row.clear).toBe(0n);
      for (const [addr, size, v] of row.mem ?? []) expect(k.m.read(addr, size)).toBe(v);
      if (row.console !== undefined) expect(k.m.console).toBe(row.console);
    });
  }

  it('swapgs exchanges GS base and kernel GS base', () => {
    const { cpu } = run('x86_64', { name: 'swapgs', code: (a) => a.swapgs(), gsBase: 0x1234n, expect: {} });
    expect(cpu.kernelGsBase).toBe(0x1234n);
    expect(cpu.gsBase).toBe(0n);
  });
});

const rows32: Row[] = [
  { name: 'mov/add 32', code: (a) => a.mov(eax, imm(-1)).add(eax, imm(2)), expect: { eax: 1n }, set: CF },
  { name: 'push/pop 32 uses 4-byte slots', code: (a) => a.mov(ebx, esp).push(imm(7)).sub(ebx, esp).pop(ecx), expect: { ebx: 4n, ecx: 7n } },
  { name: 'call/ret 32', code: (a) => a.call('.f').jmp('.e').label('.f').mov(eax, imm(3)).ret().label('.e'), expect: { eax: 3n } },
  { name: 'lock cmpxchg 32', code: (a) => a.lock().cmpxchg(dword(D32), ecx), regs: { eax: 0n, ecx: 2n }, expect: { eax: 0n }, set: ZF, mem: [[D32, 4, 2n]] },
  { name: 'rep movsd 32', code: (a) => a.rep().movsd(), regs: { esi: D32, edi: D32 + 0x40n, ecx: 2n }, memIn: [[D32, 8, 0x1111111122222222n]], expect: { ecx: 0n, esi: D32 + 8n, edi: D32 + 0x48n }, mem: [[D32 + 0x40n, 8, 0x1111111122222222n]] },
  { name: 'mov %fs:off 32', code: (a) => a.mov(eax, dword.fs(4)), memIn: [[D32 + 4n, 4, 0x99n]], expect: { eax: 0x99n } },
];

describe('i386 instruction subset', () => {
  for (const row of rows32) {
    it(row.name, () => {
      const k = kit({ arch: 'i386' });
      const a = k.asm();
      a.label('start');
      row.code(a);
      a.hlt();
      k.m.loadCode(a.assemble());
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
      const cpu = k.m.cpus[0]!;
      cpu.fsBase = D32;
      for (const [r, v] of Object.entries(row.regs ?? {})) cpu.setReg(r as RegName, v);
      for (const [addr, size, v] of row.memIn ?? []) k.m.write(addr, size, v);
      k.m.run({ steps: 1000 });
      expect(cpu.status).toBe('halted');
      for (const [r, v] of Object.entries(row.expect)) expect(cpu.reg(r as RegName), r).toBe(v);
      if (row.set !== undefined) expect(cpu.rflags & row.set).toBe(row.set);
      for (const [addr, size, v] of row.mem ?? []) expect(k.m.read(addr, size)).toBe(v);
    });
  }
});

describe('everything else raises #UD', () => {
  it('ud2 and an unsupported instruction (imul) fault with vector 6', () => {
    for (const bytes of [[0x0f, 0x0b], [0x48, 0x0f, 0xaf, 0xc1]]) {
      const k = kit({ arch: 'x86_64' });
      k.m.loadCode({ origin: LAYOUT64.text, bytes: new Uint8Array([...bytes, 0xf4]) });
      k.m.start(0, { rip: LAYOUT64.text, rsp: k.stackTop(0) });
      k.m.startTrace({ kinds: ['fault'] });
      k.m.run({ steps: 10 });
      const f = k.m.trace[0];
      expect(f?.kind === 'fault' && f.vector).toBe(6);
    }
  });
});
