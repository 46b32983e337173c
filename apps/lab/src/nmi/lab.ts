import { fill, h, select } from '../ui/dom.js';
import type { SimClient } from '../worker/client.js';
import { configToParams, DEFAULT_CONFIG, entryLabel, normalizeConfig, paramsToConfig, SCENARIO_IDS, SERIES_PARTS } from './config.js';
import type { NmiConfig, NmiSource } from './config.js';
import { counterexampleLoader } from './cx-loader.js';
import { cpuPanel, executedPanel, tracePanel } from './panels.js';
import { timeline } from './scrubber.js';
import { stackSvg } from './stack-svg.js';
import type { RunSummary } from './summary.js';
import type { MachineView } from './view.js';

const SPEEDS = [1, 10, 100, 1000] as const;

/** The NMI lab: pick a run, move through it instruction by instruction, inject NMIs. */
export class NmiLab {
  readonly root = h('div', { class: 'lab nmi-lab', 'data-testid': 'nmi-lab' });
  readonly #client: SimClient;
  readonly #setStatus: (text: string) => void;
  #config: NmiConfig = DEFAULT_CONFIG;
  #summary: RunSummary | undefined;
  #view: MachineView | undefined;
  #previous: MachineView | undefined;
  #stackCpu: number | 'auto' = 'auto';
  #running = false;
  #speed: number = SPEEDS[1];
  #injectSource: NmiSource = 'watchdog';
  #busy = Promise.resolve();
  readonly #controls = h('div', { class: 'controls' });
  readonly #transport = h('div', { class: 'transport' });
  readonly #outcome = h('p', { class: 'outcome', 'data-testid': 'outcome' });
  readonly #scrub = h('div', { class: 'scrub' });
  readonly #range = h('input', { type: 'range', min: 0, max: 0, value: 0, 'aria-label': 'machine step', 'data-testid': 'scrubber' });
  readonly #cpus = h('div', { class: 'cpus' });
  readonly #stack = h('div', { class: 'stack-wrap' });
  readonly #console = h('pre', { class: 'console', 'data-testid': 'console' });
  readonly #trace = h('div', { class: 'trace-wrap' });
  readonly #executed = h('div', { class: 'executed-wrap' });
  readonly #stepLabel = h('span', { class: 'step', 'data-testid': 'step' });
  readonly #runButton = h('button', { type: 'button', 'data-testid': 'run', title: 'run / pause (space)' }, 'Run');
  readonly #injectButton = h('button', { type: 'button', 'data-testid': 'inject', title: 'raise an NMI at the CPU that runs this step, and rerun from here (i)' }, 'Inject NMI here');
  readonly #violationButton = h('button', { type: 'button', 'data-testid': 'violation', title: "the counterexample's violating step", hidden: true }, 'violation ⚑');
  readonly #cxError = h('p', { class: 'bad cx-error', 'data-testid': 'cx-error', role: 'alert', hidden: true });

  constructor(client: SimClient, setStatus: (text: string) => void) {
    this.#client = client;
    this.#setStatus = setStatus;
    this.#range.addEventListener('input', () => {
      void this.seek(Number(this.#range.value));
    });
    this.root.append(
      h('p', { class: 'intro' }, 'Real x86 machine code on a simulated multi-CPU machine: the kernel, its #PF and #BP handlers, and the NMI entry. An exception inside an NMI handler re-enables NMIs with its iret; on x86_64 the next NMI then starts at the top of the same NMI stack. Step through a run, or inject an NMI yourself and find the window.'),
      this.#controls,
      h('div', { class: 'controls cx' }, counterexampleLoader(this.root, (name, text) => void this.loadCounterexample(name, text), (message) => {
        this.#showCxError(message);
      }), this.#cxError),
      this.#outcome,
      this.#transport,
      this.#scrub,
      h('div', { class: 'grid' }, this.#cpus, h('div', { class: 'side' }, this.#stack, h('h3', {}, 'Serial console'), this.#console, h('h3', {}, 'Last instructions executed'), this.#executed, h('h3', {}, 'Trace'), this.#trace)),
    );
    this.#buildTransport();
  }

  /** Loads the run the URL names (or the default), at the URL's step. */
  async start(params: URLSearchParams): Promise<void> {
    const { config, step } = paramsToConfig(params);
    await this.load(config, step);
  }

  /**
   * Runs `config` in the worker and shows `step` (undefined: the end of the run, where the
   * outcome is). Loads and seeks go through one queue, so a key pressed during a load acts
   * on the new run.
   */
  load(config: NmiConfig, step: number | undefined): Promise<void> {
    this.#running = false;
    return this.#queue(() => this.#load(config, step));
  }

  /**
   * Replays a counterexample file `kernsim explore --save` wrote, from its first step. A file the
   * worker rejects leaves the run shown before in place, with a one-line reason.
   */
  loadCounterexample(name: string, text: string): Promise<void> {
    this.#running = false;
    return this.#queue(async () => {
      this.#setStatus(`replaying ${name}…`);
      let summary: RunSummary;
      try {
        ({ summary } = await this.#client.request('nmi-counterexample', { name, text }));
      } catch (e) {
        this.#showCxError(e instanceof Error ? e.message : String(e));
        this.#setStatus('');
        return;
      }
      this.#showCxError(undefined);
      this.#setStatus(`${name}: ${summary.steps} choices replayed`);
      await this.#shown(summary, 0);
    });
  }

  #showCxError(message: string | undefined): void {
    this.#cxError.hidden = message === undefined;
    this.#cxError.textContent = message ?? '';
  }

  /** Shows step `n` (or the step `n` computes from the one shown when its turn comes). */
  seek(n: number | ((current: number) => number)): Promise<void> {
    return this.#queue(() => this.#show(typeof n === 'number' ? n : n(this.#step)));
  }

  #queue(task: () => Promise<void>): Promise<void> {
    this.#busy = this.#busy.then(task).catch((e: unknown) => {
      this.#setStatus(`error: ${e instanceof Error ? e.message : String(e)}`);
    });
    return this.#busy;
  }

  async #load(config: NmiConfig, step: number | undefined): Promise<void> {
    this.#config = normalizeConfig(config);
    this.#buildControls();
    this.#setStatus(`running ${this.#config.scenario} under ${entryLabel(this.#config)}…`);
    const t = performance.now();
    const { summary } = await this.#client.request('nmi-load', this.#config);
    this.#setStatus(`ran ${summary.steps} steps in ${Math.round(performance.now() - t)} ms`);
    await this.#shown(summary, step ?? summary.steps);
  }

  /** A run the worker has just loaded: its summary, then step `step`. */
  async #shown(summary: RunSummary, step: number): Promise<void> {
    this.#summary = summary;
    // Nothing to compare the first step shown with.
    this.#view = undefined;
    this.#previous = undefined;
    this.#range.max = String(summary.steps);
    const cx = summary.counterexample;
    this.#injectButton.disabled = cx !== undefined;
    this.#violationButton.hidden = cx === undefined;
    if (cx !== undefined) this.#cxControls(summary);
    this.#renderSummary();
    await this.#show(step);
  }

  async #show(n: number): Promise<void> {
    const view = await this.#client.request('nmi-seek', { step: n });
    this.#previous = this.#view;
    this.#view = view;
    this.#render();
  }

  get #step(): number {
    return this.#view?.step ?? 0;
  }

  #nextEvent(direction: 1 | -1): number | undefined {
    const marks = this.#summary?.marks ?? [];
    const now = this.#step;
    // An event at step s is visible once the machine is past it: stop at s + 1.
    if (direction > 0) return marks.find((e) => e.step + 1 > now)?.step;
    return marks.findLast((e) => e.step + 1 < now)?.step;
  }

  async #inject(): Promise<void> {
    const step = this.#step;
    // A counterexample's schedule is what it is: an extra NMI would make it another one.
    if (!this.#summary || this.#summary.counterexample !== undefined || step >= this.#summary.steps) return;
    const injections = [...this.#config.injections.filter((i) => i.step !== step), { step, source: this.#injectSource }];
    await this.load({ ...this.#config, injections }, step);
  }

  async #run(): Promise<void> {
    this.#running = !this.#running;
    this.#runButton.textContent = this.#running ? 'Pause' : 'Run';
    if (this.#running && this.#summary && this.#step >= this.#summary.steps) await this.seek(0);
    while (this.#running && this.#summary && this.#step < this.#summary.steps) {
      await this.seek((at) => at + this.#speed);
      await new Promise((r) => requestAnimationFrame(r));
    }
    this.#running = false;
    this.#runButton.textContent = 'Run';
  }

  /** Keyboard: → / s step, ← / b back, n / p next / previous event, space run/pause, i inject. */
  onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (target && ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName) && target !== this.#range) return;
    const act = (f: () => Promise<void> | undefined): void => {
      event.preventDefault();
      void f();
    };
    switch (event.key) {
      case 'ArrowRight':
      case 's':
        act(() => this.seek((at) => at + 1));
        break;
      case 'ArrowLeft':
      case 'b':
        act(() => this.seek((at) => at - 1));
        break;
      case 'n':
        act(() => this.#goEvent(1));
        break;
      case 'p':
        act(() => this.#goEvent(-1));
        break;
      case ' ':
        act(() => this.#run());
        break;
      case 'i':
        act(() => this.#inject());
        break;
      default:
        break;
    }
  }

  #goEvent(direction: 1 | -1): Promise<void> | undefined {
    const e = this.#nextEvent(direction);
    return e === undefined ? undefined : this.seek(e + 1);
  }

  #buildControls(): void {
    const c = this.#config;
    const reload = (next: Partial<NmiConfig>): void => {
      void this.load({ ...this.#config, ...next, injections: [] }, undefined);
    };
    const entries: (readonly [string, string])[] = [
      ['naive', c.arch === 'i386' ? 'i386 without the latch' : 'before 3.3 (naive)'],
      ['nested', c.arch === 'i386' ? '3.3 (nmi_state latch)' : '3.3 (nested-NMI entry)'],
    ];
    const parts: (readonly [string, string])[] = [['', 'the whole series'], ...SERIES_PARTS.map((p) => [p, `without ${p}`] as const)];
    const without = select('Series', 'without', parts, c.without ?? '', (v) => {
      reload({ without: SERIES_PARTS.find((p) => p === v) });
    });
    if (c.arch !== 'x86_64' || c.entry !== 'nested') without.querySelector('select')?.setAttribute('disabled', '');
    fill(
      this.#controls,
      select('Scenario', 'scenario', SCENARIO_IDS.map((id) => [id, id] as const), c.scenario, (v) => {
        reload({ scenario: SCENARIO_IDS.find((id) => id === v) ?? c.scenario });
      }),
      select('Arch', 'arch', [['x86_64', 'x86_64'], ['i386', 'i386']], c.arch, (v) => {
        reload({ arch: v === 'i386' ? 'i386' : 'x86_64' });
      }),
      select('Entry', 'entry', entries, c.entry, (v) => {
        reload({ entry: v === 'naive' ? 'naive' : 'nested' });
      }),
      without,
      this.#delayInput(c),
      c.injections.length > 0
        ? h('span', { class: 'injected', 'data-testid': 'injections' }, `injected NMIs at steps ${c.injections.map((i) => `${i.step} (${i.source})`).join(', ')} `)
        : null,
    );
    if (c.injections.length > 0) {
      const clear = h('button', { type: 'button' }, 'clear injections');
      clear.addEventListener('click', () => {
        reload({});
      });
      this.#controls.append(clear);
    }
  }

  /** While a counterexample is shown: what it is, and the way back to the scenario runs. */
  #cxControls(summary: RunSummary): void {
    const back = h('button', { type: 'button', 'data-testid': 'cx-back' }, 'back to the scenarios');
    back.addEventListener('click', () => {
      void this.load(this.#config, undefined);
    });
    fill(this.#controls, h('span', { 'data-testid': 'cx-loaded' }, `Counterexample ${summary.counterexample?.file ?? ''} · ${summary.entry} · ${summary.steps} choices (an instruction of a CPU, or an NMI the search raised) `), back);
  }

  #delayInput(c: NmiConfig): HTMLLabelElement {
    const input = h('input', { type: 'number', min: 0, max: 200000, placeholder: 'scenario', value: c.delay ?? '', 'data-testid': 'delay', size: 7 });
    input.addEventListener('change', () => {
      const n = Number(input.value);
      void this.load({ ...this.#config, delay: input.value === '' || !Number.isInteger(n) || n < 0 ? undefined : n, injections: [] }, undefined);
    });
    return h('label', { title: "instructions after the first exception's iret at which the second NMI arrives" }, 'second NMI delay ', input);
  }

  #buildTransport(): void {
    const button = (label: string, testid: string, title: string, f: () => Promise<void> | undefined): HTMLButtonElement => {
      const b = h('button', { type: 'button', 'data-testid': testid, title }, label);
      b.addEventListener('click', () => void f());
      return b;
    };
    this.#runButton.addEventListener('click', () => void this.#run());
    this.#injectButton.addEventListener('click', () => void this.#inject());
    this.#violationButton.addEventListener('click', () => void this.seek(this.#summary?.counterexample?.violationStep ?? 0));
    const speed = select('speed', 'speed', SPEEDS.map((n) => [String(n), `${n} steps/frame`] as const), String(this.#speed), (v) => {
      this.#speed = Number(v);
    });
    this.#transport.append(
      button('« start', 'start', 'first step', () => this.seek(0)),
      button('◀ prev event', 'prev-event', 'previous event (p)', () => this.#goEvent(-1)),
      button('◀ back', 'back', 'back one instruction (← or b)', () => this.seek((at) => at - 1)),
      this.#runButton,
      button('step ▶', 'step-button', 'one instruction (→ or s)', () => this.seek((at) => at + 1)),
      button('next event ▶', 'next-event', 'next NMI delivery, exception or iret (n)', () => this.#goEvent(1)),
      button('end »', 'end', 'last step', () => this.seek(this.#summary?.steps ?? 0)),
      this.#violationButton,
      this.#injectButton,
      select('from', 'inject-source', [['watchdog', 'watchdog'], ['sampler', 'perf sampler']], this.#injectSource, (v) => {
        this.#injectSource = v === 'sampler' ? 'sampler' : 'watchdog';
      }),
      speed,
      this.#stepLabel,
    );
  }

  #renderSummary(): void {
    const s = this.#summary;
    if (!s) return;
    this.#range.max = String(s.steps);
    fill(
      this.#outcome,
      h('b', {}, s.title),
      ` — ${s.entry}: `,
      h('span', { class: s.verdict.bad ? 'bad' : 'good', 'data-testid': 'verdict' }, s.verdict.word),
      ` — ${s.verdict.detail}`,
    );
  }

  #stackCpuFor(view: MachineView): number {
    if (this.#stackCpu !== 'auto') return this.#stackCpu;
    const last = view.recent.findLast((e) => e.kind === 'delivery' && e.text.startsWith('NMI'));
    return last?.cpu ?? this.#summary?.marks.find((e) => e.text.startsWith('NMI #'))?.cpu ?? 0;
  }

  #render(): void {
    const v = this.#view;
    const s = this.#summary;
    if (!v || !s) return;
    const prev = this.#previous?.steps === v.steps ? this.#previous : undefined;
    this.#range.value = String(v.step);
    this.#stepLabel.textContent = `step ${v.step} / ${v.steps} · ${v.next ?? 'end of run'}`;
    fill(this.#scrub, this.#range, timeline(s, v.step, (n) => void this.seek(n)));
    fill(this.#cpus, ...v.cpus.map((c) => cpuPanel(c, prev?.cpus[c.id], c.id === v.nextCpu)));
    const cpu = this.#stackCpuFor(v);
    const stack = v.stacks[cpu];
    const picker = select('stack of', 'stack-cpu', [['auto', 'CPU with the latest NMI'], ...v.stacks.map((x) => [String(x.cpu), `CPU ${x.cpu}`] as const)], String(this.#stackCpu), (val) => {
      this.#stackCpu = val === 'auto' ? 'auto' : Number(val);
      this.#render();
    });
    fill(this.#stack, h('h3', {}, 'NMI stack'), picker, stack ? stackSvg(stack, prev?.stacks[cpu]) : null);
    this.#console.textContent = v.console === '' ? '(nothing printed yet)' : v.console;
    this.#console.scrollTop = this.#console.scrollHeight;
    fill(this.#executed, executedPanel(v));
    const trace = tracePanel(v);
    fill(this.#trace, trace);
    trace.scrollTop = trace.scrollHeight;
    // A counterexample lives in its file, not in the URL: the address bar keeps the scenario run's.
    if (s.counterexample !== undefined) return;
    const url = new URL(window.location.href);
    url.search = `?lab=nmi&${configToParams(this.#config, v.step).toString()}`;
    history.replaceState(null, '', url);
  }
}
