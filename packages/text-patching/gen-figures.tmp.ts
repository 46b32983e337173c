import { patchFigures } from './src/index.js';
const f = (n: number): string => n.toLocaleString('en-US');
for (const cpus of [2, 4, 64, 256]) {
  for (const r of patchFigures({ cpuCounts: [cpus] })) {
    console.log(`| ${r.method} | ${r.cpus} | ${r.variant} | ${r.completed ? 'yes' : 'no'} | ${f(r.patchCycles)} | ${f(r.stallTotal)} | ${f(r.stallWorst)} | ${f(r.ipisSent)} | ${f(r.int3OtherCpus)} | ${f(r.gpFaults)} |`);
  }
}
