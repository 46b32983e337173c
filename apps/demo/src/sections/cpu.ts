import { Assembler, createMachine, disassemble, dword, byte, imm, qword, reg } from '@kernsim/cpu-core';
import type { Machine, TraceEvent } from '@kernsim/cpu-core';
import { choiceOption, intOption } from './options.js';
import type { Section } from './section.js';

const TEXT = 0xffffffff81000000n;
const DATA = 0xffffffff82000000n;
const STACKS = 0xffffffff83000000n;
const { rax, rbp, rsp, edx } = reg;

/** Cells of the shared data page the two CPUs talk through. */
const CELL = { calls: DATA, hits: DATA + 8n, stopRequest: DATA + 16n, parked: DATA + 24n, go: DATA + 32n, current: DATA + 0xc880n } as const;

interface Built {
  readonly m: Machine;
  readonly func: bigint;
  readonly funcEnd: bigint;
}

/**
 * The article's traced function on CPU 0, and a stop_machine-style patcher on CPU 1: it parks
 * CPU 0, rewrites the 5-byte nop into `call mcount`, prints to the serial port and releases
 * CPU 0, which serializes (cpuid) before it runs the new code.
 */
function build(calls: number): Built {
  const m = createMachine({ arch: 'x86_64', cpus: 2, seed: 1, serial: { cyclesPerByte: 870 } });
  m.map(TEXT, 0x1000);
  m.map(DATA, 0xe000);
  m.map(STACKS, 0x2000);
  const a = new Assembler({ bitness: 64, origin: TEXT });
  a.label('func').push(rbp).mov(rbp, rsp).label('ftrace_site').nop(5).mov(rax, qword.gs(0xc880)).pop(rbp).ret();
  a.label('func_end').align(16, 0xcc);
  a.label('mcount').lock().add(qword(CELL.hits), imm(1)).ret();
  a.label('cpu0_main').call('func').add(qword(CELL.calls), imm(1)).cmp(qword(CELL.stopRequest), imm(1)).jne('cpu0_main');
  a.mov(qword(CELL.parked), imm(1));
  a.label('.wait_go').pause().cmp(qword(CELL.go), imm(0)).je('.wait_go');
  a.cpuid();
  a.label('.again').call('func').add(qword(CELL.calls), imm(1)).cmp(qword(CELL.calls), imm(calls)).jb('.again').hlt();
  a.label('cpu1_patcher').mov(qword(CELL.stopRequest), imm(1));
  a.label('.wait_parked').pause().cmp(qword(CELL.parked), imm(1)).jne('.wait_parked');
  // rel32 = mcount - (site + 5): the tail first, then the e8 opcode over the nop's first byte.
  a.mov(rax, imm('ftrace_site')).mov(reg.rdx, imm('mcount')).sub(reg.rdx, rax).sub(reg.rdx, imm(5));
  a.mov(dword(rax, 1), edx).mov(byte(rax), imm(0xe8));
  a.mov(edx, imm(0x3f8));
  for (const ch of 'ftrace: call mcount patched in\n') a.mov(reg.al, imm(ch.charCodeAt(0))).out(reg.dx, reg.al);
  a.mov(qword(CELL.go), imm(1)).hlt();
  const code = a.assemble();
  m.loadCode(code);
  m.write(CELL.current, 8, 0xffff880012345000n);
  m.cpus[0]!.gsBase = DATA;
  m.start(0, { rip: 'cpu0_main', rsp: STACKS + 0x1000n });
  m.start(1, { rip: 'cpu1_patcher', rsp: STACKS + 0x2000n });
  return { m, func: code.symbols.get('func')!, funcEnd: code.symbols.get('func_end')! };
}

function listing(b: Built): string {
  const bytes = b.m.readBytes(b.func, Number(b.funcEnd - b.func));
  return disassemble(bytes, { origin: b.func, bitness: 64, symbols: b.m.symbols })
    .map((l) => `${l.address.toString(16)}:  ${l.bytes.padEnd(27)} ${l.text}`)
    .join('\n');
}

export const cpuSection: Section = {
  id: 'cpu',
  title: 'The machine: two x86_64 CPUs running real machine code',
  summary: 'a two-CPU run with its trace, and the ftrace site patched from a nop into a call',
  options: [
    { flags: '--calls <n>', description: 'how many times CPU 0 calls the traced function in total', defaultValue: '6' },
    { flags: '--scheduler <kind>', description: 'round-robin or random (seeded)', defaultValue: 'random' },
  ],
  run(options) {
    const calls = intOption(options, 'calls', 6, { min: 2, max: 100_000 });
    const kind = choiceOption(options, 'scheduler', ['round-robin', 'random'] as const, 'random');
    const b = build(calls);
    const m = b.m;
    const before = listing(b);
    m.watch(b.func, Number(b.funcEnd - b.func), 'func text');
    m.startTrace({ kinds: ['instruction', 'write', 'fault', 'delivery'], limit: 400 });
    const result = m.run({ steps: 200_000, scheduler: { kind } });
    const after = listing(b);
    const events: readonly TraceEvent[] = m.trace;
    const firstLines = events.slice(0, 24).map((e) => m.formatTrace([e]));
    const writes = events.filter((e) => e.kind === 'write').map((e) => m.formatTrace([e]));
    const faults = events.filter((e) => e.kind === 'fault').length;
    const perCpu = m.cpus.map((c) => ({ cpu: c.id, status: c.status, instructions: c.instructions, cycles: c.cycles }));
    const funcCalls = Number(m.read(CELL.calls, 8));
    const mcountHits = Number(m.read(CELL.hits, 8));
    return {
      id: 'cpu',
      title: this.title,
      blocks: [
        {
          kind: 'paragraph',
          text:
            'Every byte below was fetched by a simulated CPU. CPU 0 calls a function that starts like the article\'s: ' +
            'push %rbp; mov %rsp,%rbp; a 5-byte nop where ftrace may put a call; a per-CPU load through %gs. CPU 1 parks ' +
            'CPU 0, overwrites the nop with e8 rel32 (call mcount), prints on the slow serial port and lets CPU 0 go; CPU 0 ' +
            'executes cpuid to serialize before running the changed code, so the cross-modifying-code rule is respected.',
        },
        { kind: 'pre', title: 'func in simulated memory, before', text: before },
        { kind: 'pre', title: 'func in simulated memory, after', text: after },
        { kind: 'pre', title: `The first ${firstLines.length} traced instructions (${kind} scheduler)`, text: firstLines.join('\n') },
        { kind: 'pre', title: 'Writes to the function text (watched)', text: writes.join('\n') },
        { kind: 'pre', title: 'Serial console', text: m.console },
        {
          kind: 'table',
          title: 'Per CPU',
          columns: [{ header: 'CPU' }, { header: 'Status' }, { header: 'Instructions' }, { header: 'Cycles' }],
          rows: perCpu.map((c) => [c.cpu, c.status, c.instructions, c.cycles]),
        },
        {
          kind: 'list',
          items: [
            `func called ${funcCalls} times; mcount reached ${mcountHits} times (only after the patch)`,
            `${result.steps} scheduling steps, stopped because: ${result.reason}`,
            `${faults} faults; machine state hash ${m.hash()}`,
          ],
        },
      ],
      data: { before, after, funcCalls, mcountHits, console: m.console, perCpu, steps: result.steps, faults, hash: m.hash(), trace: firstLines },
    };
  },
};
