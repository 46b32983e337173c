import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import type { Snapshot } from './machine.js';

const { rax, rbx } = reg;

// Snapshots share unchanged frames' images and restore rewrites only what differs (or copies
// into a frame's own bytes): whatever order snapshots, restores, CPU stores and API writes come
// in, a restore must give back exactly the bytes, registers and hash of its snapshot, and a
// snapshot must never see a write made after it.

type Op = { readonly k: 'run'; readonly n: number } | { readonly k: 'poke'; readonly slot: number; readonly v: bigint } | { readonly k: 'snap' } | { readonly k: 'restore'; readonly which: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('run' as const), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant('poke' as const), slot: fc.integer({ min: 0, max: 1023 }), v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  fc.record({ k: fc.constant('snap' as const) }),
  fc.record({ k: fc.constant('restore' as const), which: fc.nat() }),
);

function build() {
  const k = kit({ arch: 'x86_64', cpus: 2, seed: 1 });
  const a = k.asm();
  // Stores to the data page and the stack: the CPU write path, fast and copy-on-write.
  a.label('loop').add(qword(k.layout.data), imm(1)).mov(rbx, qword(k.layout.data)).push(rbx).pop(rax).add(qword(k.layout.data + 0x1008n), imm(3)).jmp('loop');
  k.m.loadCode(a.assemble());
  k.m.start(0, { rip: 'loop', rsp: k.stackTop(0) });
  k.m.start(1, { rip: 'loop', rsp: k.stackTop(1) });
  return k;
}

interface Seen {
  readonly snap: Snapshot;
  readonly data: Uint8Array;
  readonly stacks: Uint8Array;
  readonly regs: readonly bigint[];
}

describe('snapshots that share frames', () => {
  it('restore gives back exactly the snapshot, in any order of snapshots, restores, CPU stores and API writes', () => {
    // One machine for every run (each starts by restoring the first state): frames keep whatever a run left them with.
    const k = build();
    const m = k.m;
    const first = m.snapshot();
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        m.restore(first);
        const look = (snap: Snapshot): Seen => ({ snap, data: m.readBytes(k.layout.data, 0x2000), stacks: m.readBytes(k.stackTop(0) - 0x100n, 0x4100), regs: [0, 1].flatMap((c) => [m.cpus[c]!.rip, m.cpus[c]!.rsp, m.cpus[c]!.reg('rax')]) });
        const seen: Seen[] = [look(m.snapshot())];
        for (const o of ops) {
          if (o.k === 'run') m.run({ steps: o.n, scheduler: { kind: 'round-robin', quantum: 3 } });
          else if (o.k === 'poke') m.write(k.layout.data + BigInt(o.slot * 8), 8, o.v);
          else if (o.k === 'snap') seen.push(look(m.snapshot()));
          else {
            const s = seen[o.which % seen.length]!;
            m.restore(s.snap);
            const now = look(s.snap);
            expect(m.hash()).toBe(s.snap.hash);
            expect(now.data).toEqual(s.data);
            expect(now.stacks).toEqual(s.stacks);
            expect(now.regs).toEqual(s.regs);
          }
        }
      }),
      { numRuns: 30 },
    );
  });

  it('a restored machine continues exactly as the run that was not interrupted', () => {
    const a = build();
    const b = build();
    a.m.run({ steps: 50, scheduler: { kind: 'round-robin', quantum: 3 } });
    b.m.run({ steps: 50, scheduler: { kind: 'round-robin', quantum: 3 } });
    const snap = b.m.snapshot();
    // Dirty b's frames (its own bytes after the first write), restore, dirty again, restore again.
    b.m.run({ steps: 70, scheduler: { kind: 'round-robin', quantum: 3 } });
    b.m.restore(snap);
    b.m.run({ steps: 30, scheduler: { kind: 'round-robin', quantum: 3 } });
    b.m.write(b.layout.data + 16n, 8, 5n);
    b.m.restore(snap);
    a.m.run({ steps: 100, scheduler: { kind: 'round-robin', quantum: 3 } });
    b.m.run({ steps: 100, scheduler: { kind: 'round-robin', quantum: 3 } });
    expect(b.m.hash()).toBe(a.m.hash());
    expect(b.m.readBytes(b.layout.data, 0x2000)).toEqual(a.m.readBytes(a.layout.data, 0x2000));
  });
});
