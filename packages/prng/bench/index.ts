// `pnpm bench prng`: draws per second through the class and through the bare step function
// (cpu-core's scheduler uses the latter on its hot path). Prints `name: value unit`.
import { performance } from 'node:perf_hooks';
import { Prng, mulberry32Next, mulberry32Value } from '@kernsim/prng';

const DRAWS = 20_000_000;

function rate(name: string, run: () => number): void {
  const t0 = performance.now();
  const sink = run();
  const seconds = (performance.now() - t0) / 1000;
  if (!Number.isFinite(sink)) throw new Error('unreachable: the sum of draws is finite');
  console.log(`${name}: ${(DRAWS / seconds / 1e6).toFixed(1)} Mdraws/s`);
}

rate('class_next', () => {
  const prng = new Prng(2012);
  let sum = 0;
  for (let i = 0; i < DRAWS; i++) sum += prng.next();
  return sum;
});
rate('step_function', () => {
  let state = 2012;
  let sum = 0;
  for (let i = 0; i < DRAWS; i++) {
    state = mulberry32Next(state);
    sum += mulberry32Value(state);
  }
  return sum;
});
