import { describe, expect, it } from 'vitest';
import type { Assembler, Condition } from '../asm/assembler.js';
import { disassemble } from '../asm/disassembler.js';
import { byte, dword, imm, mem, qword, reg } from '../asm/operands.js';
import { MSR, PORT } from './arch.js';
import { SUPPORTED_MNEMONICS } from './compile.js';
import type { Cpu, RegName } from './cpu-view.js';
import { ISA_ROWS } from '../testing/isa-rows.js';
import { kit, LAYOUT32, LAYOUT64 } from '../testing/kit.js';
import type { Kit } from '../testing/kit.js';

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
  /** Entries of SUPPORTED_MNEMONICS this row executes. */
  readonly covers: readonly string[];
  /** Mnemonic (GNU syntax, as a regex prefix) the assembled bytes must decode back to: some instruction of `code`. */
  readonly decodes: string;
  readonly code: (a: Assembler) => void;
  /** Code placed after the final hlt (handlers). */
  readonly tail?: (a: Assembler) => void;
  /** Machine set-up before the run (gates, mappings). */
  readonly setup?: (k: Kit) => void;
  /** Extra assertions after the run. */
  readonly after?: (k: Kit, cpu: Cpu) => void;
  /** Whether the row ends halted (default true). */
  readonly halts?: boolean;
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
  row.tail?.(a);
  const code = a.assemble();
  k.m.loadCode(code);
  row.setup?.(k);
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  const cpu = k.m.cpus[0]!;
  for (const [r, v] of Object.entries(row.regs ?? {})) cpu.setReg(r as RegName, v);
  if (row.flagsIn !== undefined) cpu.rflags = row.flagsIn;
  if (row.gsBase !== undefined) cpu.gsBase = row.gsBase;
  for (const [addr, size, v] of row.memIn ?? []) k.m.write(addr, size, v);
  const r = k.m.run({ steps: 2_000 });
  return { k, cpu, code, r };
}

const rows64: Row[] = [
  { name: 'mov r64, imm (movabs)', covers: ['movabs'], decodes: 'movabs', code: (a) => a.movabs(rax, 0x1122334455667788n), expect: { rax: 0x1122334455667788n } },
  { name: 'mov r32 zero-extends', covers: ['mov'], decodes: 'mov', code: (a) => a.mov(eax, imm(5)), regs: { rax: -1n }, expect: { rax: 5n } },
  { name: 'mov r16 keeps the rest', covers: ['mov'], decodes: 'mov', code: (a) => a.mov(ax, imm(0x1234)), regs: { rax: -1n }, expect: { rax: 0xffffffffffff1234n } },
  { name: 'mov al/ah', covers: ['mov'], decodes: 'mov', code: (a) => a.mov(al, imm(0x11)).mov(ah, imm(0x22)), regs: { rax: 0xffffn << 16n }, expect: { rax: 0xffff2211n } },
  { name: 'mov store/load', covers: ['mov'], decodes: 'mov', code: (a) => a.mov(qword(D64), rbx).mov(rcx, qword(D64)), regs: { rbx: 0xdeadbeefcafef00dn }, expect: { rcx: 0xdeadbeefcafef00dn }, mem: [[D64, 8, 0xdeadbeefcafef00dn]] },
  { name: 'mov %gs:off', covers: ['mov'], decodes: 'mov', code: (a) => a.mov(rax, qword.gs(0x10)), gsBase: D64, memIn: [[D64 + 0x10n, 8, 0x4242n]], expect: { rax: 0x4242n } },
  { name: 'mov to %gs:off', covers: ['mov'], decodes: 'mov', code: (a) => a.mov(qword.gs(0x18), rbx), gsBase: D64, regs: { rbx: 0x77n }, expect: {}, mem: [[D64 + 0x18n, 8, 0x77n]] },
  { name: 'lea base+index*scale+disp', covers: ['lea'], decodes: 'lea', code: (a) => a.lea(rax, mem(rbx, rcx, 4, 8)), regs: { rbx: 0x1000n, rcx: 3n }, expect: { rax: 0x1014n } },
  { name: 'push/pop', covers: ['push', 'pop'], decodes: 'push', code: (a) => a.push(rbx).pop(rcx), regs: { rbx: 77n }, expect: { rcx: 77n } },
  { name: 'push imm sign-extends', covers: ['push'], decodes: 'push', code: (a) => a.push(imm(-2)).pop(rcx), expect: { rcx: 0xfffffffffffffffen } },
  { name: 'push/pop memory', covers: ['push', 'pop'], decodes: 'push', code: (a) => a.push(qword(D64)).pop(qword(D64 + 8n)), memIn: [[D64, 8, 0x1234n]], expect: {}, mem: [[D64 + 8n, 8, 0x1234n]] },
  { name: 'pushf/popf', covers: ['pushf', 'popf'], decodes: 'pushf', code: (a) => a.pushf().pop(rax).push(imm(0x8c5)).popf(), expect: { rax: 0x2n | 0x41n }, flagsIn: 0x43n, set: CF | PF | ZF | SF | OF },
  { name: 'popf at CPL 0 restores IF (local_irq_restore)', covers: ['pushf', 'popf'], decodes: 'pushf', code: (a) => a.sti().pushf().cli().popf(), expect: {}, set: IF },
  { name: 'popf at CPL 0 clears IF when the saved flags had it clear', covers: ['popf'], decodes: 'pushf', code: (a) => a.cli().pushf().sti().popf(), expect: {}, clear: IF },
  { name: 'add 64 carry+zero', covers: ['add'], decodes: 'add', code: (a) => a.add(rax, imm(1)), regs: { rax: -1n }, expect: { rax: 0n }, set: CF | ZF | PF | AF, clear: SF | OF },
  { name: 'add 64 signed overflow', covers: ['add'], decodes: 'add', code: (a) => a.add(rax, rbx), regs: { rax: 0x7fffffffffffffffn, rbx: 1n }, expect: { rax: 0x8000000000000000n }, set: OF | SF, clear: CF | ZF },
  { name: 'add 32 wraps and zero-extends', covers: ['add'], decodes: 'add', code: (a) => a.add(eax, imm(1)), regs: { rax: 0xffffffffn }, expect: { rax: 0n }, set: CF | ZF },
  { name: 'add 8 overflow', covers: ['add'], decodes: 'add', code: (a) => a.add(al, imm(1)), regs: { rax: 0x7fn }, expect: { rax: 0x80n }, set: OF | SF | AF, clear: CF },
  { name: 'add to memory', covers: ['add'], decodes: 'add', code: (a) => a.add(qword(D64), imm(5)), memIn: [[D64, 8, 10n]], expect: {}, mem: [[D64, 8, 15n]] },
  { name: 'adc adds the carry', covers: ['adc'], decodes: 'adc', code: (a) => a.adc(rax, rbx), regs: { rax: 1n, rbx: 2n }, flagsIn: 0x3n, expect: { rax: 4n }, clear: CF | ZF },
  { name: 'adc carries out', covers: ['adc'], decodes: 'adc', code: (a) => a.adc(rax, imm(0)), regs: { rax: -1n }, flagsIn: 0x3n, expect: { rax: 0n }, set: CF | ZF },
  { name: 'sub borrow', covers: ['sub'], decodes: 'sub', code: (a) => a.sub(rax, imm(1)), regs: { rax: 0n }, expect: { rax: 0xffffffffffffffffn }, set: CF | SF, clear: ZF | OF },
  { name: 'sbb subtracts the borrow', covers: ['sbb'], decodes: 'sbb', code: (a) => a.sbb(rax, rbx), regs: { rax: 5n, rbx: 2n }, flagsIn: 0x3n, expect: { rax: 2n }, clear: CF | ZF },
  { name: 'sbb borrows out', covers: ['sbb'], decodes: 'sbb', code: (a) => a.sbb(eax, imm(0)), regs: { rax: 0n }, flagsIn: 0x3n, expect: { rax: 0xffffffffn }, set: CF | SF },
  { name: 'cmp sets flags only', covers: ['cmp'], decodes: 'cmp', code: (a) => a.cmp(rax, imm(7)), regs: { rax: 5n }, expect: { rax: 5n }, set: CF | SF, clear: ZF },
  { name: 'cmp equal', covers: ['cmp'], decodes: 'cmp', code: (a) => a.cmp(rax, rbx), regs: { rax: 9n, rbx: 9n }, expect: {}, set: ZF, clear: CF | SF },
  { name: 'and', covers: ['and'], decodes: 'and', code: (a) => a.and(rax, imm(0xf0)), regs: { rax: 0x1ffn }, flagsIn: 0x803n, expect: { rax: 0xf0n }, clear: CF | OF | ZF },
  { name: 'or', covers: ['or'], decodes: 'or', code: (a) => a.or(rax, rbx), regs: { rax: 0x100000000n, rbx: 1n }, expect: { rax: 0x100000001n }, clear: ZF },
  { name: 'xor self', covers: ['xor'], decodes: 'xor', code: (a) => a.xor(eax, eax), regs: { rax: -1n }, expect: { rax: 0n }, set: ZF | PF },
  { name: 'test', covers: ['test'], decodes: 'test', code: (a) => a.test(rax, imm(1)), regs: { rax: 2n }, expect: { rax: 2n }, set: ZF },
  { name: 'inc keeps CF', covers: ['inc'], decodes: 'inc', code: (a) => a.inc(rax), regs: { rax: -1n }, flagsIn: 0x3n, expect: { rax: 0n }, set: CF | ZF },
  { name: 'dec keeps CF', covers: ['dec'], decodes: 'dec', code: (a) => a.dec(rax), regs: { rax: 0n }, flagsIn: 0x2n, expect: { rax: -1n & 0xffffffffffffffffn }, clear: CF, set: SF },
  { name: 'neg', covers: ['neg'], decodes: 'neg', code: (a) => a.neg(rax), regs: { rax: 5n }, expect: { rax: 0xfffffffffffffffbn }, set: CF | SF },
  { name: 'neg 0', covers: ['neg'], decodes: 'neg', code: (a) => a.neg(rax), regs: { rax: 0n }, expect: { rax: 0n }, set: ZF, clear: CF },
  { name: 'not', covers: ['not'], decodes: 'not', code: (a) => a.not(rax), regs: { rax: 0xff00n }, expect: { rax: 0xffffffffffff00ffn } },
  { name: 'shl 64 by imm', covers: ['shl'], decodes: 'shl', code: (a) => a.shl(rax, imm(4)), regs: { rax: 0xf000000000000001n }, expect: { rax: 0x10n }, set: CF },
  { name: 'shr 64 by cl', covers: ['shr'], decodes: 'shr', code: (a) => a.shr(rax, cl), regs: { rax: 0x8000000000000000n, rcx: 63n }, expect: { rax: 1n }, clear: CF | ZF },
  { name: 'shr 32 by 1', covers: ['shr'], decodes: 'shr', code: (a) => a.shr(eax, imm(1)), regs: { rax: 3n }, expect: { rax: 1n }, set: CF },
  { name: 'sar 64', covers: ['sar'], decodes: 'sar', code: (a) => a.sar(rax, imm(8)), regs: { rax: 0x8000000000000000n }, expect: { rax: 0xff80000000000000n }, set: SF },
  { name: 'rol 64 by 1', covers: ['rol'], decodes: 'rol', code: (a) => a.rol(rax, imm(1)), regs: { rax: 0x8000000000000001n }, expect: { rax: 3n }, set: CF },
  { name: 'ror 32 by 4', covers: ['ror'], decodes: 'ror', code: (a) => a.ror(eax, imm(4)), regs: { rax: 0x12345678n }, expect: { rax: 0x81234567n }, set: CF },
  { name: 'movzx', covers: ['movzx'], decodes: 'movzb', code: (a) => a.movzx(eax, bl), regs: { rax: -1n, rbx: 0x1ffn }, expect: { rax: 0xffn } },
  { name: 'movsx', covers: ['movsx'], decodes: 'movsb', code: (a) => a.movsx(rax, byte(D64)), memIn: [[D64, 1, 0x80n]], expect: { rax: 0xffffffffffffff80n } },
  { name: 'movsxd', covers: ['movsxd'], decodes: 'movsl', code: (a) => a.movsx(rax, ecx), regs: { rcx: 0x80000000n }, expect: { rax: 0xffffffff80000000n } },
  { name: 'jmp', covers: ['jmp'], decodes: 'jmp', code: (a) => a.jmp('.t').mov(rax, imm(1)).label('.t').mov(rbx, imm(2)), expect: { rax: 0n, rbx: 2n } },
  { name: 'jcc taken/not taken', covers: ['jcc'], decodes: 'je', code: (a) => a.cmp(rax, imm(1)).je('.t').mov(rbx, imm(9)).label('.t').jne('.u').mov(rcx, imm(7)).label('.u'), regs: { rax: 1n }, expect: { rbx: 0n, rcx: 7n } },
  { name: 'call/ret', covers: ['call', 'ret'], decodes: 'call', code: (a) => a.call('.f').mov(rbx, imm(1)).jmp('.end').label('.f').mov(rax, imm(3)).ret().label('.end'), expect: { rax: 3n, rbx: 1n } },
  { name: 'ret $n drops arguments', covers: ['ret'], decodes: 'ret', code: (a) => a.mov(rbx, reg.rsp).push(imm(0)).call('.f').sub(rbx, reg.rsp).jmp('.end').label('.f').ret(8).label('.end'), expect: { rbx: 0n } },
  { name: 'indirect call/jmp', covers: ['call', 'jmp'], decodes: 'call', code: (a) => a.lea(rdx, qword(reg.rip, '.f')).call(rdx).lea(rdx, qword(reg.rip, '.end')).jmp(rdx).mov(rbx, imm(1)).label('.f').mov(rax, imm(4)).ret().label('.end'), expect: { rax: 4n, rbx: 0n } },
  { name: 'lock cmpxchg success', covers: ['cmpxchg'], decodes: 'lock cmpxchg', code: (a) => a.lock().cmpxchg(qword(D64), rcx), regs: { rax: 1n, rcx: 2n }, memIn: [[D64, 8, 1n]], expect: { rax: 1n }, set: ZF, mem: [[D64, 8, 2n]] },
  { name: 'cmpxchg failure loads rax', covers: ['cmpxchg'], decodes: 'cmpxchg', code: (a) => a.cmpxchg(qword(D64), rcx), regs: { rax: 5n, rcx: 2n }, memIn: [[D64, 8, 1n]], expect: { rax: 1n }, clear: ZF, mem: [[D64, 8, 1n]] },
  { name: 'xchg', covers: ['xchg'], decodes: 'xchg', code: (a) => a.xchg(qword(D64), rcx), regs: { rcx: 2n }, memIn: [[D64, 8, 9n]], expect: { rcx: 9n }, mem: [[D64, 8, 2n]] },
  { name: 'xadd', covers: ['xadd'], decodes: 'lock xadd', code: (a) => a.lock().xadd(qword(D64), rcx), regs: { rcx: 2n }, memIn: [[D64, 8, 9n]], expect: { rcx: 9n }, mem: [[D64, 8, 11n]] },
  { name: 'cpuid vendor', covers: ['cpuid'], decodes: 'cpuid', code: (a) => a.cpuid(), regs: { rax: 0n }, expect: { rbx: 0x756e6547n, rdx: 0x49656e69n, rcx: 0x6c65746en } },
  { name: 'std', covers: ['std'], decodes: 'std', code: (a) => a.std(), expect: {}, set: DF },
  { name: 'cld', covers: ['cld'], decodes: 'cld', code: (a) => a.cld(), flagsIn: 0x402n, expect: {}, clear: DF },
  { name: 'clc', covers: ['clc'], decodes: 'clc', code: (a) => a.clc(), flagsIn: 0x3n, expect: {}, clear: CF },
  { name: 'stc', covers: ['stc'], decodes: 'stc', code: (a) => a.stc(), expect: {}, set: CF },
  { name: 'cmc', covers: ['cmc'], decodes: 'cmc', code: (a) => a.cmc().cmc().cmc(), expect: {}, set: CF },
  { name: 'cli/sti', covers: ['cli', 'sti'], decodes: 'cli', code: (a) => a.cli().sti(), expect: {}, set: IF },
  { name: 'cli', covers: ['cli'], decodes: 'cli', code: (a) => a.sti().cli(), expect: {}, clear: IF },
  { name: 'hlt stops the CPU after advancing RIP', covers: ['hlt'], decodes: 'hlt', code: (a) => a.hlt().label('.after').mov(rax, imm(1)), expect: { rax: 0n }, after: (k, cpu) => { expect(cpu.rip).toBe(k.m.address('start') + 1n); } },
  { name: 'rep stosq', covers: ['rep stos'], decodes: 'rep stos', code: (a) => a.rep().stosq(), regs: { rax: 0x55n, rcx: 3n, rdi: D64 }, expect: { rcx: 0n, rdi: D64 + 24n }, mem: [[D64, 8, 0x55n], [D64 + 16n, 8, 0x55n], [D64 + 24n, 8, 0n]] },
  { name: 'stosb without rep', covers: ['rep stos'], decodes: 'stos', code: (a) => a.stosb(), regs: { rax: 0x1234n, rcx: 5n, rdi: D64 }, expect: { rcx: 5n, rdi: D64 + 1n }, mem: [[D64, 2, 0x34n]] },
  { name: 'rep movsb', covers: ['rep movs'], decodes: 'rep movs', code: (a) => a.rep().movsb(), regs: { rsi: D64, rdi: D64 + 0x100n, rcx: 4n }, memIn: [[D64, 4, 0x44332211n]], expect: { rcx: 0n }, mem: [[D64 + 0x100n, 4, 0x44332211n]] },
  { name: 'std + movsq goes down', covers: ['rep movs'], decodes: 'std', code: (a) => a.std().movsq(), regs: { rsi: D64 + 8n, rdi: D64 + 0x108n }, memIn: [[D64 + 8n, 8, 7n]], expect: { rsi: D64, rdi: D64 + 0x100n }, mem: [[D64 + 0x108n, 8, 7n]] },
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n): Row => ({ name: `nop ${n} bytes`, covers: ['nop (all forms)'], decodes: n === 2 ? 'xchg' : 'nop', code: (a) => a.nop(n).mov(rax, imm(n)), expect: { rax: BigInt(n) } })),
  {
    name: 'hint nops, prefetches and fences do nothing',
    covers: ['nop (all forms)'],
    decodes: 'prefetch',
    code: (a) => a.db(0x0f, 0x18, 0x08).db(0x0f, 0x0d, 0x08).db(0x0f, 0x1f, 0x00).db(0x0f, 0xae, 0xe8).db(0x0f, 0xae, 0xf0).db(0x0f, 0xae, 0xf8).db(0x0f, 0x19, 0xc0).mov(rax, imm(1)),
    regs: { rax: 7n },
    expect: { rax: 1n },
  },
  { name: 'pause', covers: ['pause'], decodes: 'pause', code: (a) => a.pause().mov(rax, imm(1)), expect: { rax: 1n } },
  { name: 'wrmsr/rdmsr GS base', covers: ['wrmsr', 'rdmsr'], decodes: 'wrmsr', code: (a) => a.wrmsr().xor(eax, eax).xor(edx, edx).rdmsr(), regs: { rcx: BigInt(MSR.GS_BASE), rax: 0x1000n, rdx: 0xffff8800n }, expect: { rax: 0x1000n, rdx: 0xffff8800n }, after: (_k, cpu) => { expect(cpu.gsBase).toBe(0xffff880000001000n); } },
  { name: 'rdmsr of an unknown MSR is #GP', covers: ['rdmsr'], decodes: 'rdmsr', code: (a) => a.rdmsr(), regs: { rcx: 0x1234n }, expect: { rbx: 13n }, tail: (a) => a.label('gp').mov(rbx, imm(13)).hlt(), setup: (k) => { k.m.setGate(13, { handler: 'gp' }); } },
  { name: 'wrmsr of the read-only TSC is #GP', covers: ['wrmsr'], decodes: 'wrmsr', code: (a) => a.wrmsr(), regs: { rcx: BigInt(MSR.TSC) }, expect: { rbx: 13n }, tail: (a) => a.label('gp').mov(rbx, imm(13)).hlt(), setup: (k) => { k.m.setGate(13, { handler: 'gp' }); } },
  { name: 'rdmsr of the write-only x2APIC ICR is #GP', covers: ['rdmsr'], decodes: 'rdmsr', code: (a) => a.rdmsr(), regs: { rcx: BigInt(MSR.X2APIC_ICR) }, expect: { rbx: 13n }, tail: (a) => a.label('gp').mov(rbx, imm(13)).hlt(), setup: (k) => { k.m.setGate(13, { handler: 'gp' }); } },
  { name: 'wrmsr/rdmsr STAR keeps both halves', covers: ['wrmsr', 'rdmsr'], decodes: 'wrmsr', code: (a) => a.wrmsr().xor(eax, eax).xor(edx, edx).rdmsr(), regs: { rcx: BigInt(MSR.STAR), rax: 0x12345678n, rdx: 0x00230010n }, expect: { rax: 0x12345678n, rdx: 0x00230010n } },
  { name: 'mov to/from cr2', covers: ['mov to/from cr0/cr2/cr3/cr4'], decodes: 'mov', code: (a) => a.mov(reg.cr2, rax).mov(rbx, reg.cr2), regs: { rax: 0xffffc90000001000n }, expect: { rbx: 0xffffc90000001000n } },
  { name: 'mov to/from cr3 (same tables, TLB flushed)', covers: ['mov to/from cr0/cr2/cr3/cr4'], decodes: 'mov', code: (a) => a.mov(rax, reg.cr3).mov(reg.cr3, rax).mov(rbx, reg.cr3).mov(rcx, qword(D64)), memIn: [[D64, 8, 5n]], expect: { rcx: 5n }, after: (k, cpu) => { expect(cpu.reg('rbx')).toBe(k.m.kernelSpace.cr3); } },
  { name: 'mov to/from cr0 and cr4', covers: ['mov to/from cr0/cr2/cr3/cr4'], decodes: 'mov', code: (a) => a.mov(rax, reg.cr0).mov(reg.cr4, rcx).mov(rdx, reg.cr4), regs: { rcx: 0x20n }, expect: { rax: 0x80000011n, rdx: 0x20n } },
  { name: 'mov to/from segment registers; push/pop %fs', covers: ['mov to/from segment registers', 'push', 'pop'], decodes: 'mov', code: (a) => a.mov(ax, imm(0x18)).mov(reg.ds, ax).mov(ebx, reg.ds).mov(ax, imm(0x2b)).mov(reg.fs, ax).push(reg.fs).pop(rcx), expect: { rbx: 0x18n, rcx: 0x2bn } },
  { name: 'out to the serial port', covers: ['out'], decodes: 'out', code: (a) => a.mov(edx, imm(0x3f8)).mov(al, imm(0x41)).out(reg.dx, al), expect: {}, console: 'A' },
  { name: 'in from the APIC id and serial status ports', covers: ['in'], decodes: 'in', code: (a) => a.mov(edx, imm(PORT.APIC_ID)).in(eax, reg.dx).mov(ebx, eax).mov(eax, imm(0xff00)).mov(edx, imm(PORT.SERIAL + 5)).in(al, reg.dx), regs: { rbx: 7n }, expect: { rbx: 0n, rax: 0xff60n } },
  { name: 'rdtsc', covers: ['rdtsc'], decodes: 'rdtsc', code: (a) => a.nop().rdtsc(), expect: { rax: 1n, rdx: 0n } },
  { name: 'swapgs', covers: ['swapgs'], decodes: 'swapgs', code: (a) => a.swapgs(), gsBase: 0x1234n, expect: {}, after: (_k, cpu) => { expect(cpu.kernelGsBase).toBe(0x1234n); expect(cpu.gsBase).toBe(0n); } },
  {
    name: 'int3 and iretq',
    covers: ['int3', 'iretq', 'iret'],
    decodes: 'int3',
    code: (a) => a.int3().mov(rcx, imm(1)),
    tail: (a) => a.label('bp').mov(rdx, imm(3)).iretq(),
    setup: (k) => { k.m.setGate(3, { handler: 'bp' }); },
    expect: { rcx: 1n, rdx: 3n },
  },
  {
    name: 'int n',
    covers: ['int'],
    decodes: 'int',
    code: (a) => a.int(0x80).mov(rcx, imm(1)),
    tail: (a) => a.label('h80').mov(rdx, imm(0x80)).iretq(),
    setup: (k) => { k.m.setGate(0x80, { handler: 'h80' }); },
    expect: { rcx: 1n, rdx: 0x80n },
  },
  {
    name: 'iretq with a hand-built frame',
    covers: ['iretq'],
    decodes: 'iretq',
    code: (a) => a.mov(rax, reg.rsp).push(imm(0x18)).push(rax).push(imm(0x202)).push(imm(0x10)).lea(rcx, qword(reg.rip, '.t')).push(rcx).iretq().mov(rbx, imm(9)).label('.t'),
    expect: { rbx: 0n },
    after: (k, cpu) => { expect(cpu.rsp).toBe(k.stackTop(0)); expect(cpu.interruptsEnabled).toBe(true); },
  },
  { name: 'ud2 raises #UD', covers: ['ud2'], decodes: 'ud2', code: (a) => a.ud2(), tail: (a) => a.label('ud').mov(rbx, imm(6)).hlt(), setup: (k) => { k.m.setGate(6, { handler: 'ud' }); }, expect: { rbx: 6n } },
  {
    name: 'syscall enters LSTAR with RCX/R11 saved',
    covers: ['syscall'],
    decodes: 'syscall',
    code: (a) => a.mov(ecx, imm(MSR.LSTAR)).lea(rax, qword(reg.rip, 'entry')).mov(rdx, rax).shr(rdx, imm(32)).wrmsr().mov(ecx, imm(MSR.STAR)).xor(eax, eax).mov(edx, imm(0x00230010)).wrmsr().syscall().label('after_syscall'),
    tail: (a) => a.label('entry').mov(rbx, reg.r11).hlt(),
    flagsIn: 0x246n,
    expect: { rbx: 0x246n },
    after: (k, cpu) => { expect(cpu.reg('rcx')).toBe(k.m.address('after_syscall')); expect(cpu.cs).toBe(0x10); },
  },
  {
    name: 'sysretq returns to CPL 3 at RCX with RFLAGS from R11',
    covers: ['sysretq'],
    decodes: 'sysretq',
    code: (a) => a.mov(ecx, imm(MSR.STAR)).xor(eax, eax).mov(edx, imm(0x00230010)).wrmsr().mov(ecx, imm(0x400000)).mov(reg.r11, imm(0x202)).sysretq(),
    setup: (k) => { k.m.map(0x400000n, 0x1000, { user: true }); k.m.writeBytes(0x400000n, [0xeb, 0xfe]); },
    halts: false,
    expect: {},
    after: (_k, cpu) => { expect(cpu.cpl).toBe(3); expect(cpu.cs).toBe(0x33); expect(cpu.ss).toBe(0x2b); expect(cpu.rip).toBe(0x400000n); expect(cpu.interruptsEnabled).toBe(true); },
  },
  {
    name: 'lidt/sidt',
    covers: ['lidt', 'sidt'],
    decodes: 'lidt',
    code: (a) => a.lidt(mem(D64)).sidt(mem(D64 + 0x10n)),
    memIn: [[D64, 2, 0x7ffn], [D64 + 2n, 8, D64 + 0x1000n]],
    expect: {},
    mem: [[D64 + 0x10n, 2, 0x7ffn], [D64 + 0x12n, 8, D64 + 0x1000n]],
    after: (_k, cpu) => { expect(cpu.idtr).toEqual({ base: D64 + 0x1000n, limit: 0x7ff }); },
  },
  { name: 'invlpg', covers: ['invlpg'], decodes: 'invlpg', code: (a) => a.invlpg(mem(D64)).mov(rax, qword(D64)), memIn: [[D64, 8, 3n]], expect: { rax: 3n } },
  { name: 'leave', covers: ['leave'], decodes: 'leave', code: (a) => a.push(reg.rbp).mov(reg.rbp, reg.rsp).sub(reg.rsp, imm(32)).leave(), regs: { rbp: 0x777n }, expect: { rbp: 0x777n }, after: (k, cpu) => { expect(cpu.rsp).toBe(k.stackTop(0)); } },
];

describe('x86_64 instruction subset: bytes decode back and execute with the documented effect', () => {
  for (const row of rows64) {
    it(row.name, () => {
      const { k, cpu, code } = run('x86_64', row);
      const mnemonics = disassemble(code.bytes, { origin: code.origin, bitness: 64 }).map((d) => d.text);
      expect(mnemonics.some((t) => new RegExp(`^${row.decodes}`).test(t)), mnemonics.join('; ')).toBe(true);
      expect(cpu.status).toBe(row.halts === false ? 'running' : 'halted');
      for (const [r, v] of Object.entries(row.expect)) expect(cpu.reg(r as RegName), r).toBe(BigInt.asUintN(64, v));
      if (row.set !== undefined) expect(cpu.rflags & row.set).toBe(row.set);
      if (row.clear !== undefined) expect(cpu.rflags & row.clear).toBe(0n);
      for (const [addr, size, v] of row.mem ?? []) expect(k.m.read(addr, size)).toBe(v);
      if (row.console !== undefined) expect(k.m.console).toBe(row.console);
      row.after?.(k, cpu);
    });
  }

  it('every entry of SUPPORTED_MNEMONICS has a row here', () => {
    const covered = new Set([...rows64, ...rows32, ...ISA_ROWS].flatMap((r) => r.covers));
    expect(SUPPORTED_MNEMONICS.filter((m) => !covered.has(m))).toEqual([]);
    expect([...covered].filter((m) => !SUPPORTED_MNEMONICS.includes(m))).toEqual([]);
  });
});

const rows32: Row[] = [
  { name: 'mov/add 32', covers: ['mov', 'add'], decodes: 'mov', code: (a) => a.mov(eax, imm(-1)).add(eax, imm(2)), expect: { eax: 1n }, set: CF },
  { name: 'push/pop 32 uses 4-byte slots', covers: ['push', 'pop'], decodes: 'push', code: (a) => a.mov(ebx, esp).push(imm(7)).sub(ebx, esp).pop(ecx), expect: { ebx: 4n, ecx: 7n } },
  { name: 'pushf/popf 32', covers: ['pushf', 'popf'], decodes: 'pushf', code: (a) => a.pushf().pop(eax).push(imm(0x8c5)).popf(), flagsIn: 0x43n, expect: { eax: 0x43n }, set: CF | PF | ZF | SF | OF },
  { name: 'call/ret 32', covers: ['call', 'ret'], decodes: 'call', code: (a) => a.call('.f').jmp('.e').label('.f').mov(eax, imm(3)).ret().label('.e'), expect: { eax: 3n } },
  { name: 'lock cmpxchg 32', covers: ['cmpxchg'], decodes: 'lock cmpxchg', code: (a) => a.lock().cmpxchg(dword(D32), ecx), regs: { eax: 0n, ecx: 2n }, expect: { eax: 0n }, set: ZF, mem: [[D32, 4, 2n]] },
  { name: 'rep movsd 32', covers: ['rep movs'], decodes: 'rep movs', code: (a) => a.rep().movsd(), regs: { esi: D32, edi: D32 + 0x40n, ecx: 2n }, memIn: [[D32, 8, 0x1111111122222222n]], expect: { ecx: 0n, esi: D32 + 8n, edi: D32 + 0x48n }, mem: [[D32 + 0x40n, 8, 0x1111111122222222n]] },
  { name: 'mov %fs:off 32', covers: ['mov'], decodes: 'mov', code: (a) => a.mov(eax, dword.fs(4)), memIn: [[D32 + 4n, 4, 0x99n]], expect: { eax: 0x99n } },
  { name: 'inc/dec short forms', covers: ['inc', 'dec'], decodes: 'inc', code: (a) => a.inc(eax).inc(eax).dec(ecx), regs: { eax: 1n, ecx: 0n }, expect: { eax: 3n, ecx: 0xffffffffn }, set: SF },
  {
    name: 'int n and iretd (kernel mode: EFLAGS, CS, EIP on the current stack)',
    covers: ['int', 'iretd', 'iret'],
    decodes: 'int',
    code: (a) => a.int(0x80).mov(ecx, imm(1)),
    tail: (a) => a.label('h80').mov(edx, dword(esp, 4)).iretd(),
    setup: (k) => { k.m.setGate(0x80, { handler: 'h80', dpl: 3, type: 'trap' }); },
    expect: { ecx: 1n, edx: 0x60n },
  },
  { name: 'leave 32', covers: ['leave'], decodes: 'push', code: (a) => a.push(reg.ebp).mov(reg.ebp, esp).sub(esp, imm(16)).leave(), regs: { ebp: 0x777n }, expect: { ebp: 0x777n } },
  { name: 'lidt/sidt 32 (6-byte pseudo-descriptor)', covers: ['lidt', 'sidt'], decodes: 'lidt', code: (a) => a.lidt(mem(D32)).sidt(mem(D32 + 0x10n)), memIn: [[D32, 2, 0x3ffn], [D32 + 2n, 4, D32 + 0x800n]], expect: {}, mem: [[D32 + 0x10n, 2, 0x3ffn], [D32 + 0x12n, 4, D32 + 0x800n]] },
];

describe('i386 instruction subset', () => {
  for (const row of rows32) {
    it(row.name, () => {
      const k = kit({ arch: 'i386' });
      const a = k.asm();
      a.label('start');
      row.code(a);
      a.hlt();
      row.tail?.(a);
      const code = a.assemble();
      k.m.loadCode(code);
      row.setup?.(k);
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
      const cpu = k.m.cpus[0]!;
      cpu.fsBase = D32;
      for (const [r, v] of Object.entries(row.regs ?? {})) cpu.setReg(r as RegName, v);
      if (row.flagsIn !== undefined) cpu.rflags = row.flagsIn;
      for (const [addr, size, v] of row.memIn ?? []) k.m.write(addr, size, v);
      k.m.run({ steps: 1000 });
      const texts = disassemble(code.bytes, { origin: code.origin, bitness: 32 }).map((d) => d.text);
      expect(texts.some((t) => new RegExp(`^${row.decodes}`).test(t)), texts.join('; ')).toBe(true);
      expect(cpu.status).toBe('halted');
      for (const [r, v] of Object.entries(row.expect)) expect(cpu.reg(r as RegName), r).toBe(v);
      if (row.set !== undefined) expect(cpu.rflags & row.set).toBe(row.set);
      for (const [addr, size, v] of row.mem ?? []) expect(k.m.read(addr, size)).toBe(v);
      row.after?.(k, cpu);
    });
  }
});

describe('conditional jumps: all 16 conditions against signed and unsigned comparisons', () => {
  const toS = (v: bigint): bigint => BigInt.asIntN(64, v);
  // Expected outcome from the meaning of the condition, not from the flags the machine computes.
  const conds: [Condition, (a: bigint, b: bigint) => boolean][] = [
    ['e', (a, b) => a === b], ['ne', (a, b) => a !== b],
    ['b', (a, b) => a < b], ['ae', (a, b) => a >= b], ['be', (a, b) => a <= b], ['a', (a, b) => a > b],
    ['l', (a, b) => toS(a) < toS(b)], ['ge', (a, b) => toS(a) >= toS(b)], ['le', (a, b) => toS(a) <= toS(b)], ['g', (a, b) => toS(a) > toS(b)],
    ['s', (a, b) => toS(BigInt.asUintN(64, a - b)) < 0n], ['ns', (a, b) => toS(BigInt.asUintN(64, a - b)) >= 0n],
    ['o', (a, b) => toS(a) - toS(b) !== toS(BigInt.asUintN(64, a - b))], ['no', (a, b) => toS(a) - toS(b) === toS(BigInt.asUintN(64, a - b))],
    ['p', (a, b) => popcount8(a - b) % 2 === 0], ['np', (a, b) => popcount8(a - b) % 2 === 1],
  ];
  function popcount8(v: bigint): number {
    let x = Number(BigInt.asUintN(64, v) & 0xffn);
    let n = 0;
    for (; x; x >>= 1) n += x & 1;
    return n;
  }
  const pairs: [bigint, bigint][] = [[1n, 1n], [1n, 2n], [2n, 1n], [0n, 0xffffffffffffffffn], [0x8000000000000000n, 1n], [0x7fffffffffffffffn, 0xffffffffffffffffn], [3n, 0n]];
  for (const [cc, want] of conds) {
    it(`j${cc}`, () => {
      const k = kit({ arch: 'x86_64' });
      const a = k.asm();
      a.label('start').cmp(rax, rbx).j(cc, 'taken').mov(rcx, imm(1)).hlt().label('taken').mov(rcx, imm(2)).hlt();
      const code = a.assemble();
      k.m.loadCode(code);
      expect(disassemble(code.bytes, { origin: code.origin, bitness: 64 })[1]!.mnemonic).toBe(`j${cc}`);
      for (const [x, y] of pairs) {
        k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
        k.m.cpus[0]!.setReg('rax', x);
        k.m.cpus[0]!.setReg('rbx', y);
        k.m.run({ steps: 10 });
        expect(k.m.cpus[0]!.reg('rcx'), `${x.toString(16)} vs ${y.toString(16)}`).toBe(want(x, y) ? 2n : 1n);
      }
    });
  }
});

describe('everything else raises #UD', () => {
  const cases: [string, number[]][] = [
    ['ud2', [0x0f, 0x0b]],
    ['rdrand', [0x48, 0x0f, 0xc7, 0xf0]],
    ['far jmp through memory', [0xff, 0x2b]],
    ['x87 fld', [0xd9, 0x03]],
    ['lock cmp', [0xf0, 0x48, 0x39, 0x03]],
    ['0f 0d with a register operand', [0x0f, 0x0d, 0xc0]],
    ['retf', [0xcb]],
    ['movq to xmm', [0x66, 0x48, 0x0f, 0x6e, 0xc0]],
    ['lock on mov', [0xf0, 0x48, 0x89, 0x03]],
    ['lock on a register destination', [0xf0, 0x48, 0x01, 0xc0]],
  ];
  for (const [name, bytes] of cases) {
    it(`${name} faults with vector 6`, () => {
      const k = kit({ arch: 'x86_64' });
      k.m.loadCode({ origin: LAYOUT64.text, bytes: new Uint8Array([...bytes, 0xf4]) });
      k.m.start(0, { rip: LAYOUT64.text, rsp: k.stackTop(0) });
      k.m.startTrace({ kinds: ['fault'] });
      k.m.run({ steps: 10 });
      const f = k.m.trace[0];
      expect(f?.kind === 'fault' && f.vector).toBe(6);
      expect(f?.kind === 'fault' && f.rip).toBe(LAYOUT64.text);
    });
  }
});

describe('push and pop of the stack pointer itself', () => {
  it('push %rsp pushes the value before the push; pop %rsp loads the popped value', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').push(reg.rsp).pop(rax).mov(qword(reg.rsp, -8), imm(0x1000)).sub(reg.rsp, imm(8)).pop(reg.rsp).hlt();
    k.m.loadCode(a.assemble());
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.run({ steps: 10 });
    expect(k.m.cpus[0]!.reg('rax')).toBe(k.stackTop(0));
    expect(k.m.cpus[0]!.rsp).toBe(0x1000n);
  });
});
