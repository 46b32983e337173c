import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { replaySchedule } from '@kernsim/cpu-core/explore';
import { runScenario as runI386 } from '@kernsim/nmi-i386';
import { buildNmiModel, counterexampleFile, exploreNmi, replayCounterexample, runScenario } from '@kernsim/nmi-x86_64';
import type { RegName } from '@kernsim/cpu-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './browser.js';

const shots = join(import.meta.dirname, '..', 'test-output');
// Generous: the machine may be shared with other builds; an unloaded run takes a few seconds per test.
const WAIT = 90_000;
const errors: string[] = [];
let browser: Browser;
let page: Page;

async function openNmi(query: string): Promise<void> {
  await page.goto(`${inject('labUrl')}?${query}`);
  await page.getByTestId('verdict').waitFor({ timeout: WAIT });
  await page.getByTestId('regs-cpu0').waitFor({ timeout: WAIT });
}

async function stepText(): Promise<string> {
  return (await page.getByTestId('step').textContent()) ?? '';
}

/** The page's step counter settles on `step`. */
async function waitForStep(step: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelector('[data-testid=step]')?.textContent.startsWith(`step ${n} /`) === true, step, { timeout: WAIT });
}

/** The hardware frame's RIP slot of the stack diagram shown. */
async function frameRip(): Promise<{ value: string; symbol: string; changed: string }> {
  const g = page.locator('[data-region="hardware frame"][data-field="RIP"]').first();
  return { value: (await g.getAttribute('data-value')) ?? '', symbol: (await g.getAttribute('data-symbol')) ?? '', changed: (await g.getAttribute('data-changed')) ?? '' };
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  page.setDefaultTimeout(WAIT);
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
});

afterAll(async () => {
  await browser.close();
});

describe('NMI lab', () => {
  it('loads the default run and shows every view', async () => {
    await openNmi('');
    expect(await page.getByTestId('verdict').textContent()).toBe('survived');
    expect(await page.getByTestId('code-cpu0').locator('tr.current').count()).toBe(1);
    expect(await page.locator('[data-testid^=stack-cpu] [data-region="NMI executing"]').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'nmi.png') });
  });

  it('runs the watchdog dump to its crash under the pre-3.3 entry', async () => {
    await openNmi('scenario=watchdog-dump&arch=x86_64&entry=naive&step=1');
    expect(await page.getByTestId('verdict').textContent()).toBe('CRASHED');
    const total = Number(/\/ (\d+)/.exec(await stepText())?.[1]);
    await page.getByTestId('speed').selectOption('1000');
    await page.getByTestId('run').click();
    await waitForStep(total);
    expect(await page.getByTestId('trace').textContent()).toContain('BUG: unable to handle kernel paging request');
    expect(await page.getByTestId('console').textContent()).toContain('BUG:');
  });

  it('runs the watchdog dump to the end under the 3.3 entry, dump complete', async () => {
    await openNmi('scenario=watchdog-dump&arch=x86_64&entry=nested&step=1');
    expect(await page.getByTestId('verdict').textContent()).toBe('survived');
    const total = Number(/\/ (\d+)/.exec(await stepText())?.[1]);
    await page.getByTestId('speed').selectOption('1000');
    await page.keyboard.press(' ');
    await waitForStep(total);
    expect(await stepText()).toContain('end of run');
    expect(await page.getByTestId('console').textContent()).toContain('-- end of task list --');
  });

  it("draws the nested NMI's hardware frame over the first one's", async () => {
    const r = runScenario('watchdog-dump', { entry: 'naive' });
    const over = r.events.find((e) => e.kind === 'overwrite');
    expect(over).toBeDefined();
    await openNmi(`scenario=watchdog-dump&arch=x86_64&entry=naive&step=${over!.step}`);
    await page.getByTestId('stack-cpu').selectOption(String(over!.cpu));
    const before = await frameRip();
    await page.keyboard.press('ArrowRight');
    await waitForStep(over!.step + 1);
    const after = await frameRip();
    expect(after.changed).toBe('yes');
    expect(after.value).not.toBe(before.value);
    // The first NMI interrupted a task; the nested one interrupted the first one's handler code.
    expect(before.symbol).not.toMatch(/^nmi|do_nmi|show_state|printk/);
    expect(after.symbol).not.toBe('');
    expect(await page.getByTestId('trace').textContent()).toContain(`frame lands on NMI #`);
    await page.screenshot({ path: join(shots, 'nmi-overwrite.png') });
  });

  it('an NMI injected at the current instruction changes the run', async () => {
    await openNmi('scenario=watchdog-dump&arch=x86_64&entry=nested&step=2000');
    const raisedBefore = Number(/of (\d+) NMIs handled/.exec((await page.getByTestId('outcome').textContent()) ?? '')?.[1]);
    const traceBefore = await page.getByTestId('trace').textContent();
    await page.getByTestId('inject').click();
    await page.getByTestId('injections').waitFor({ timeout: WAIT });
    await waitForStep(2000);
    await page.keyboard.press('ArrowRight');
    await waitForStep(2001);
    const traceAfter = (await page.getByTestId('trace').textContent()) ?? '';
    expect(traceAfter).not.toBe(traceBefore);
    expect(traceAfter).toMatch(/2000 cpu\d NMI (raised|latched)/);
    const raisedAfter = Number(/of (\d+) NMIs handled/.exec((await page.getByTestId('outcome').textContent()) ?? '')?.[1]);
    expect(raisedAfter).toBe(raisedBefore + 1);
    expect(page.url()).toContain('inject=2000');
    expect(await page.getByTestId('injections').textContent()).toContain('2000 (watchdog)');
  });

  it('next event stops just after it, and the URL reopens the same machine state', async () => {
    await openNmi('scenario=kprobe&arch=x86_64&entry=naive&step=10');
    await page.keyboard.press('n');
    await page.waitForFunction(() => !document.querySelector('[data-testid=step]')?.textContent.startsWith('step 10 /'));
    const step = Number(/^step (\d+)/.exec(await stepText())?.[1]);
    const last = await page.getByTestId('trace').locator('li').last().textContent();
    expect(last?.trim().startsWith(`${step - 1} cpu`)).toBe(true);
    const shown = await page.getByTestId('regs-cpu0').textContent();
    const url = page.url();
    expect(url).toContain(`step=${step}`);
    await page.keyboard.press('b');
    await waitForStep(step - 1);
    await page.goto(url);
    await page.getByTestId('regs-cpu0').waitFor();
    await waitForStep(step);
    expect(await page.getByTestId('regs-cpu0').textContent()).toBe(shown);
  });

  it('names the i386 NMI frame where the NMI pushed it, and shows the nmi_state latch', async () => {
    const r = runI386('watchdog-dump');
    const restart = r.events.find((e) => e.kind === 'landmark' && e.text === 'nmi_restart')!;
    await openNmi(`scenario=watchdog-dump&arch=i386&entry=nested&step=${restart.step + 2}`);
    await page.getByTestId('stack-cpu').selectOption(String(restart.cpu));
    const stack = page.getByTestId(`stack-cpu${restart.cpu}`);
    expect(await stack.getByTestId(`nmi-state-cpu${restart.cpu}`).getAttribute('data-value')).toBe('NMI_EXECUTING');
    const fields = await stack.locator('g[data-owner=NMI]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-field')));
    expect(fields.slice(0, 15)).toEqual(['EFLAGS', 'CS', 'EIP', 'orig_ax', 'gs', 'fs', 'es', 'ds', 'ax', 'bp', 'di', 'si', 'dx', 'cx', 'bx']);
    expect(await stack.locator('g[data-owner=NMI][data-field=EIP]').getAttribute('data-symbol')).not.toBe('');
    await page.screenshot({ path: join(shots, 'nmi-i386.png') });
  });

  it('seeks with the scrubber to registers the library computes for that step', async () => {
    const target = 12_345;
    const names: RegName[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r12', 'r15'];
    let expected: { rip: string; regs: string[] }[] = [];
    let calls = 0;
    runScenario('watchdog-dump', {
      entry: 'naive',
      // Called before each step: at call `target` the machine has run `target` instructions.
      probe: (k) => {
        if (calls++ === target) expected = k.machine.cpus.map((c) => ({ rip: c.rip.toString(16).padStart(16, '0'), regs: names.map((n) => c.reg(n).toString(16).padStart(16, '0')) }));
        return undefined;
      },
    });
    expect(expected.length).toBe(2);
    await openNmi('scenario=watchdog-dump&arch=x86_64&entry=naive&step=20000');
    await page.getByTestId('scrubber').evaluate((el, n) => {
      const input = el as HTMLInputElement;
      input.value = String(n);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, target);
    await waitForStep(target);
    for (const [cpu, want] of expected.entries()) {
      expect(await page.getByTestId(`rip-cpu${cpu}`).textContent()).toBe(want.rip);
      const got = await Promise.all(names.map((n) => page.getByTestId(`regs-cpu${cpu}`).locator(`td[data-reg=${n}]`).textContent()));
      expect(got).toEqual(want.regs);
    }
    expect(page.url()).toContain(`step=${target}`);
  });
});

describe('NMI lab: a saved counterexample', () => {
  it('rejects a bad file with one line, loads a good one and steps to its violation as the library replays it', async () => {
    // What `kernsim explore --save` writes: the naive entry, the default search, a small budget.
    const r = await exploreNmi({ entry: 'naive', starts: ['nmi-perf'], maxStates: 20_000 });
    const v = r.violations.find((x) => x.invariant === 'nmi-handler-not-nested');
    expect(v).toBeDefined();
    const file = counterexampleFile(r.params, v!);
    const n = file.schedule.length;
    const names: RegName[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r12', 'r15'];
    const model = buildNmiModel(file.params);
    replaySchedule(model.machine, file.schedule, model.options.events);
    const cpu0 = model.machine.cpus[0]!;
    const wantRegs = names.map((x) => cpu0.reg(x).toString(16).padStart(16, '0'));
    const wantStack = replayCounterexample(file).diagram.slots.map((x) => x.value.toString(16).padStart(16, '0'));

    await openNmi('scenario=watchdog-dump&arch=x86_64&entry=nested&step=100');
    const dropped = await page.evaluateHandle((text) => {
      const d = new DataTransfer();
      d.items.add(new File([text], 'not-a-counterexample.json', { type: 'application/json' }));
      return d;
    }, '{"format":"something-else"}');
    await page.getByTestId('nmi-lab').dispatchEvent('drop', { dataTransfer: dropped });
    await page.getByTestId('cx-error').waitFor({ state: 'visible', timeout: WAIT });
    const message = (await page.getByTestId('cx-error').textContent()) ?? '';
    expect(message).toContain('not a kernsim NMI counterexample');
    expect(message).not.toContain('\n');
    expect(await page.getByTestId('verdict').textContent()).toBe('survived');

    await page.getByTestId('cx-file').setInputFiles({ name: 'naive-nested.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file, null, 2)) });
    await page.getByTestId('cx-loaded').waitFor({ timeout: WAIT });
    await waitForStep(0);
    expect(await page.getByTestId('cx-error').isHidden()).toBe(true);
    expect(await page.getByTestId('verdict').textContent()).toBe('VIOLATED');
    expect(await page.locator('[data-testid=timeline] rect[data-kind=violation]').count()).toBe(1);
    expect(await page.getByTestId('inject').isDisabled()).toBe(true);
    await page.getByTestId('violation').click();
    await waitForStep(n);
    await page.keyboard.press('b');
    await waitForStep(n - 1);
    expect(await page.getByTestId('trace').textContent()).not.toContain('violation:');
    await page.keyboard.press('ArrowRight');
    await waitForStep(n);
    expect(await page.getByTestId('trace').textContent()).toContain('violation: nmi-handler-not-nested');
    expect(await page.getByTestId('rip-cpu0').textContent()).toBe(cpu0.rip.toString(16).padStart(16, '0'));
    expect(await Promise.all(names.map((x) => page.getByTestId('regs-cpu0').locator(`td[data-reg=${x}]`).textContent()))).toEqual(wantRegs);
    expect(await page.locator('[data-testid=stack-cpu0] g[data-region]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-value')))).toEqual(wantStack);
    await page.screenshot({ path: join(shots, 'nmi-counterexample.png') });
    await page.getByTestId('cx-back').click();
    await page.getByTestId('scenario').waitFor({ timeout: WAIT });
  });
});

describe('other labs', () => {
  it('patching lab: breakpoint method on N CPUs, and direct patching with its #GP', async () => {
    await page.goto(`${inject('labUrl')}?lab=patch`);
    await page.getByTestId('patch-summary').waitFor({ timeout: WAIT });
    expect(await page.getByTestId('patch-observed').textContent()).toContain('cc');
    // CPU 1 ran into the int3 that CPU 0 had put on the site before the first sync.
    const states = await page.getByTestId('patch-states').locator('tbody tr').allTextContents();
    expect(states.find((row) => row.startsWith('int3 + old tail'))).toContain('yes');
    expect(await page.getByTestId('patch-cpus-table').locator('tbody tr').count()).toBe(4);
    await page.getByTestId('patch-cpus').fill('8');
    await page.getByTestId('patch-cpus').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=patch-cpus-table] tbody tr').length === 8, undefined, { timeout: WAIT });
    // Every CPU at every site: CPUs 1-7 each went from the old instruction to the new one.
    const perCpu = await page.getByTestId('patch-site-cpus').locator('tbody tr').allTextContents();
    expect(perCpu.length).toBe(8);
    for (const row of perCpu.slice(1)) expect(row).toMatch(/old.*→.*new.*old.*→.*new/);
    expect(await page.getByTestId('patch-states-1').locator('tbody tr').count()).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: join(shots, 'patch.png'), fullPage: true });
    // The cost curve: 2..64 CPUs, both methods, a dot per CPU count in each line chart.
    const curve = page.getByTestId('patch-curve');
    await curve.waitFor({ timeout: WAIT });
    const charts = curve.locator('svg.chart');
    expect(await charts.count()).toBe(3);
    for (const i of [0, 1]) {
      expect(await charts.nth(i).locator('circle.point[data-series=stop_machine]').count()).toBe(6);
      expect(await charts.nth(i).locator('circle.point[data-series=breakpoint]').count()).toBe(6);
    }
    expect(await curve.getByTestId('patch-curve-table').locator('tbody tr').count()).toBe(12);
    const labels = await charts.first().locator('circle.point[data-series=stop_machine]').evaluateAll((cs) => cs.map((c) => c.getAttribute('data-label')));
    expect(labels).toEqual(['2', '4', '8', '16', '32', '64']);
    await page.getByTestId('patch-method').selectOption('direct');
    await page.getByTestId('patch-gp').waitFor({ timeout: WAIT });
    expect(await page.getByTestId('patch-gp').textContent()).toContain('#GP at');
  });

  it('memcg lab: the designs on the workloads as charts', async () => {
    await page.goto(`${inject('labUrl')}?lab=memcg`);
    await page.locator('.memcg-lab svg.chart').first().waitFor({ timeout: WAIT });
    expect(await page.locator('.memcg-lab svg.chart').count()).toBe(10);
    expect(await page.locator('.memcg-lab svg.chart').first().textContent()).toContain('Souhlal');
    await page.screenshot({ path: join(shots, 'memcg.png'), fullPage: true });
  });

  it('stats lab: a hostile author name in a dropped log is shown as text', async () => {
    await page.goto(`${inject('labUrl')}?lab=stats`);
    const hostile = 'Mallory <img src=x onerror=window.__pwned=1>\u001b[31m';
    // dev-stats' own log format (`git log` with GIT_LOG_FORMAT): names there may hold anything.
    const nul = '\u0000';
    const commit = (id: string, name: string, date: string, file: string): string => `${nul}C${id.repeat(40)}${nul}${nul}${name}${nul}${id}@example.com${nul}${date}${nul}subject\n${nul}\n\n${file}\n`;
    const log = commit('1', hostile, '2012-03-05', '10\t2\tkernel/a.c') + commit('2', 'Ada', '2012-04-03', '3\t1\tkernel/b.c');
    await page.getByTestId('stats-file').setInputFiles({ name: 'hostile.log', mimeType: 'text/plain', buffer: Buffer.from(log) });
    const table = page.getByTestId('stats-developer-changesets');
    await table.waitFor({ timeout: WAIT });
    const cells = await table.locator('td').allTextContents();
    expect(cells.some((c) => c.includes('<img src=x onerror=window.__pwned=1>') && c.includes('\u001b'))).toBe(true);
    expect(await page.locator('[data-testid=stats-out] img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: join(shots, 'stats.png'), fullPage: true });
  });

  it('logged no console errors on any lab', () => {
    expect(errors).toEqual([]);
  });
});
