import { performance } from 'node:perf_hooks';
import { imm, qword, reg } from '../src/index.js';
import { kit } from '../src/testing/kit.js';
for (const n of [1024, 4096]) {
  const { m, asm, layout } = kit({ arch: 'x86_64', cpus: n });
  m.map(0xffffffff84000000n, n * 0x1000);
  const a = asm();
  a.label('start').xor(reg.eax, reg.eax);
  a.label('.loop').add(reg.rax, imm(1)).mov(qword(reg.rsp, -8), reg.rax).cmp(qword(layout.data), imm(0)).pause().je('.loop').hlt();
  m.loadCode(a.assemble());
  for (let i = 0; i < n; i++) m.start(i, { rip: 'start', rsp: 0xffffffff84000000n + BigInt((i + 1) * 0x1000) });
  const steps = 10_000_000;
  const h0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let done = 0; done < steps; done += n * 64) m.run({ steps: n * 64 });
  const dt = (performance.now() - t0) / 1000;
  const h1 = process.memoryUsage().heapUsed;
  console.log(`rr ${n}: ${(steps / dt / 1e6).toFixed(2)} Msteps/s, heap +${((h1 - h0) / 1e6).toFixed(0)} MB`);
}
