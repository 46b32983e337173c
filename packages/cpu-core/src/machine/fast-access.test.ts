// Full-width loads, stores, pushes and pops take the inlinable `rdFast`/`wrFast` when the access
// is aligned and its page is in the TLB, and `rd`/`wr` otherwise. Whichever path an access takes,
// it must read and write what memory holds, at any alignment, warm or cold TLB, across a page
// boundary, and fault with the right CR2 past the end of the mapping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dword, qword, reg } from '../asm/operands.js';
import { LAYOUT64, kit } from '../testing/kit.js';

/** The last two mapped data pages: accesses near their end run into the unmapped page after. */
const AREA = LAYOUT64.data + 0xe000n;
const END = LAYOUT64.data + 0x10000n;

type Form = 'load64' | 'load32' | 'store64' | 'store32' | 'pop' | 'push';

/** One machine per form, its code loaded once: each run writes the area afresh and restarts the CPU (the TLB keeps what earlier runs left, so both paths of an access occur). */
const machines = new Map<Form, ReturnType<typeof kit>['m']>();

function machineFor(form: Form) {
  const known = machines.get(form);
  if (known !== undefined) return known;
  const { m, asm } = kit({ arch: 'x86_64' });
  const a = asm();
  // Twice: the first access may fill the TLB, the second finds it there.
  for (let k = 0; k < 2; k++) {
    if (form === 'load64') a.mov(reg.rax, qword(reg.rbx));
    else if (form === 'load32') a.mov(reg.eax, dword(reg.rbx));
    else if (form === 'store64') a.mov(qword(reg.rbx), reg.rcx);
    else if (form === 'store32') a.mov(dword(reg.rbx), reg.ecx);
    else if (form === 'pop') a.pop(reg.rax).sub(reg.rsp, reg.rdx);
    else a.push(reg.rcx).add(reg.rsp, reg.rdx);
  }
  a.hlt();
  m.loadCode(a.assemble());
  machines.set(form, m);
  return m;
}

function run(form: Form, off: number, bytes: Uint8Array, value: bigint) {
  const m = machineFor(form);
  m.writeBytes(AREA, bytes);
  const at = AREA + BigInt(off);
  const rsp = form === 'push' ? at + 8n : at;
  m.start(0, { rip: LAYOUT64.text, rsp });
  const cpu = m.cpus[0]!;
  cpu.setReg('rbx', at);
  cpu.setReg('rcx', value);
  cpu.setReg('rdx', 8n);
  m.startTrace({ kinds: ['fault'], limit: 4 });
  const results: bigint[] = [];
  const faulted = (): boolean => m.trace.length > 0;
  for (let k = 0; k < 2 && !faulted(); k++) {
    m.step(0);
    if (!faulted() && (form === 'load64' || form === 'load32' || form === 'pop')) results.push(cpu.reg('rax'));
    if (form === 'pop' || form === 'push') m.step(0);
  }
  const fault = m.trace[0];
  m.stopTrace();
  return { m, cpu, at, results, fault };
}

describe('full-width memory accesses (rdFast/wrFast and their fallbacks)', () => {
  it('read and write what memory holds at any alignment, and fault at the first unmapped byte', () => {
    const forms: Form[] = ['load64', 'load32', 'store64', 'store32', 'pop', 'push'];
    fc.assert(
      fc.property(
        fc.constantFrom(...forms),
        // Mostly the last bytes before the unmapped page and the boundary between the two pages
        // (4-aligned 8-byte accesses that straddle it included).
        fc.oneof(fc.constantFrom(0xffc, 0xffd, 0xff8, 0x1ffc, 0x1ff8, 0x1ff9), fc.integer({ min: 0x1ff0, max: 0x1fff }), fc.integer({ min: 0xff0, max: 0x1010 }), fc.integer({ min: 0, max: 0x1ff8 })),
        fc.uint8Array({ minLength: 0x2000, maxLength: 0x2000 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (form, off, bytes, value) => {
          const size = form.endsWith('32') ? 4 : 8;
          const { m, cpu, at, results, fault } = run(form, off, bytes, value);
          if (at + BigInt(size) > END) {
            expect(fault?.kind === 'fault' ? fault.vector : -1).toBe(14);
            expect(cpu.cr2).toBe(END);
            // Nothing was written before the fault.
            expect([...m.readBytes(AREA, 0x2000)]).toEqual([...bytes]);
            return;
          }
          expect(fault).toBeUndefined();
          let want = 0n;
          for (let i = size - 1; i >= 0; i--) want = (want << 8n) | BigInt(bytes[off + i]!);
          if (form === 'load64' || form === 'load32' || form === 'pop') expect(results).toEqual([want, want]);
          else expect(m.read(at, size)).toBe(BigInt.asUintN(size * 8, value));
        },
      ),
      { numRuns: 200 },
    );
  });
});
