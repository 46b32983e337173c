// `pnpm bench lab`: the NMI lab's first interactive render in Chromium (cold and warm), seeking in
// a 100 000-step run, and what the page transfers. Prints `name: value unit` lines.
import { join } from 'node:path';
import { Prng } from '@kernsim/prng';
import { build } from 'vite';
import { NmiSession, SNAPSHOT_INTERVAL } from '../src/nmi/session.js';
import { machineView } from '../src/nmi/view.js';
import { launchChromium } from '../test/browser.js';
import { serveStatic } from '../test/static-server.js';

const root = join(import.meta.dirname, '..');

function figure(name: string, value: number, unit: string): void {
  console.log(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}`);
}

async function pageFigures(): Promise<void> {
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error' });
  const server = await serveStatic(join(root, 'dist'));
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const page = await context.newPage();
    // From navigation start to the views of the default run on screen, in the page's own clock.
    const render = async (): Promise<number> => {
      await page.goto(server.url);
      await page.getByTestId('regs-cpu0').waitFor({ timeout: 60_000 });
      return page.evaluate(() => performance.now());
    };
    const cold = await render();
    const sent = [...server.sent.entries()];
    const warm = [await render(), await render(), await render()].sort((a, b) => a - b)[1]!;
    figure('nmi_first_render_cold', Math.round(cold), 'ms');
    figure('nmi_first_render_warm', Math.round(warm), 'ms');
    const bytes = (re: RegExp): number => sent.filter(([path]) => re.test(path)).reduce((n, [, b]) => n + b, 0);
    figure('page_js_bytes', bytes(/\.js$/), 'bytes');
    figure('page_wasm_bytes', bytes(/\.wasm$/), 'bytes');
    figure('page_js_wasm_bytes', bytes(/\.(js|wasm)$/), 'bytes');
    figure('page_total_bytes', bytes(/./), 'bytes');
  } finally {
    await browser.close();
    await server.close();
  }
}

function seekFigures(): void {
  const t0 = performance.now();
  // perf-vmalloc with the second NMI 50 000 instructions late: a run of about 100 000 steps.
  const session = new NmiSession({ scenario: 'perf-vmalloc', arch: 'x86_64', entry: 'nested', without: undefined, delay: 50_000, injections: [] });
  figure('record_run_steps', session.steps, 'steps');
  figure('record_run', Math.round(performance.now() - t0), 'ms');
  figure('snapshot_interval', SNAPSHOT_INTERVAL, 'steps');
  // The page shows the run's end as soon as it is recorded: the reader's first seek comes after that view.
  machineView(session);
  // A seeded PRNG: the same steps are sought on every bench run.
  const random = new Prng(2012);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 200; i++) {
    const step = random.int(session.steps);
    const c0 = process.cpuUsage();
    const t = performance.now();
    session.seek(step);
    machineView(session);
    wall.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const sorted = (a: number[]): number[] => [...a].sort((x, y) => x - y);
  const w = sorted(wall);
  figure('seek_and_view_median', w[w.length >> 1]!, 'ms');
  figure('seek_and_view_p95', w[Math.floor(w.length * 0.95)]!, 'ms');
  figure('seek_and_view_worst', w[w.length - 1]!, 'ms');
  // CPU time of the same seeks (all the process's threads, the collector's too): what the work costs without waiting for a core.
  const c = sorted(cpu);
  figure('seek_and_view_cpu_p95', c[Math.floor(c.length * 0.95)]!, 'ms');
  figure('seek_and_view_cpu_worst', c[c.length - 1]!, 'ms');
}

seekFigures();
await pageFigures();
