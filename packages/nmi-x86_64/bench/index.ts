import { prepareNmiScenario } from '@kernsim/kernel';
import { nestedEntry } from '../src/nested-entry.js';
import { runScenario } from '../src/scenarios.js';

// `pnpm bench` runs the scenario figures; `pnpm bench explore [window|variants|starts|three]` the explorer's.
// nmi.scenario1: full runs of scenario 1 (watchdog dump, two CPUs, boot included) per second.
function rate(label: string, seconds: number, once: () => void): void {
  once();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    once();
    n++;
  }
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(`${label}: ${perSecond.toFixed(1)} runs/s`);
}

if (process.argv[2] === 'explore') {
  process.argv.splice(2, 1);
  await import('./explore.js');
  process.exit(0);
}

rate('nmi.scenario1', 3, () => {
  runScenario('watchdog-dump', { entry: 'nested', events: false, captureStacks: false });
});
rate('nmi.scenario1-naive', 2, () => {
  runScenario('watchdog-dump', { entry: 'naive', events: false, captureStacks: false });
});
const prepared = prepareNmiScenario(nestedEntry(), 'watchdog-dump', { small: true });
let delay = 0;
rate('nmi.scenario1-sweep-run', 2, () => {
  delay = (delay + 997) % 6000;
  prepared.run(delay, { events: false, captureStacks: false });
});
