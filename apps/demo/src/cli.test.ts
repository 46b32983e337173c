import { describe, expect, it } from 'vitest';
import { main, type Io } from './cli.js';
import { intOption } from './sections/options.js';
import type { Section } from './sections/section.js';

interface Captured {
  io: Io;
  out: () => string;
  err: () => string;
  files: Map<string, string>;
}

function capture(options: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}): Captured {
  let out = '';
  let err = '';
  const files = new Map<string, string>();
  const io: Io = {
    stdout: { write: (text: string) => (out += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (err += text) },
    env: options.env ?? {},
    writeFile: (path, contents) => {
      files.set(path, contents);
      return Promise.resolve();
    },
  };
  return { io, out: () => out, err: () => err, files };
}

const hostile = '<script>alert("x")</script> & O\'Brien';
const sample: Section = {
  id: 'sample',
  title: 'A sample section',
  summary: 'a section for tests',
  options: [{ flags: '--cpus <n>', description: 'CPUs' }],
  run(options) {
    const cpus = intOption(options, 'cpus', 2, { min: 1, max: 4096 });
    return {
      id: 'sample',
      title: this.title,
      blocks: [
        { kind: 'paragraph', text: `running on ${cpus} CPUs` },
        { kind: 'table', columns: [{ header: 'Name' }, { header: 'Count' }], rows: [[hostile, 12345]] },
      ],
      data: { cpus },
    };
  },
};

describe('kernsim CLI', () => {
  it('runs every section in order with no arguments', async () => {
    const c = capture();
    expect(await main([], [sample, { ...sample, id: 'second', title: 'Second section' }], c.io)).toBe(0);
    expect(c.out().indexOf('A sample section')).toBeLessThan(c.out().indexOf('Second section'));
    expect(c.out()).toContain('running on 2 CPUs');
    expect(c.out()).toContain('12,345');
  });

  it('prints JSON for the tour and for one section', async () => {
    const tour = capture();
    await main(['--json'], [sample], tour.io);
    expect(JSON.parse(tour.out())).toMatchObject({ sections: [{ id: 'sample', data: { cpus: 2 } }] });
    const one = capture();
    await main(['sample', '--cpus', '8', '--json'], [sample], one.io);
    expect(JSON.parse(one.out())).toMatchObject({ sections: [{ id: 'sample', data: { cpus: 8 } }] });
  });

  it('writes one self-contained HTML page with every outside string escaped', async () => {
    const c = capture();
    expect(await main(['sample', '--html', '/tmp/report.html'], [sample], c.io)).toBe(0);
    const html = c.files.get('/tmp/report.html') ?? '';
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; O&#39;Brien');
    expect(html).not.toMatch(/<(link|script|img)\b/);
    expect(c.err()).toContain('wrote /tmp/report.html');
  });

  it('uses colour only on a terminal without NO_COLOR', async () => {
    const esc = '\u001b[';
    const tty = capture({ tty: true });
    await main(['sample'], [sample], tty.io);
    expect(tty.out()).toContain(esc);
    const noColour = capture({ tty: true, env: { NO_COLOR: '1' } });
    await main(['sample'], [sample], noColour.io);
    expect(noColour.out()).not.toContain(esc);
    const piped = capture({ tty: false });
    await main(['sample'], [sample], piped.io);
    expect(piped.out()).not.toContain(esc);
  });

  it('answers --help on every level', async () => {
    const top = capture();
    expect(await main(['--help'], [sample], top.io)).toBe(0);
    expect(top.out()).toContain('sample');
    const sub = capture();
    expect(await main(['sample', '--help'], [sample], sub.io)).toBe(0);
    expect(sub.out()).toContain('--cpus <n>');
    expect(sub.out()).toContain('--json');
    expect(sub.out()).toContain('--html <file>');
  });

  it('reports bad input as one line and a non-zero exit', async () => {
    const bad = capture();
    expect(await main(['sample', '--cpus', 'many'], [sample], bad.io)).toBe(2);
    expect(bad.err().trim().split('\n')).toEqual(['kernsim: --cpus must be an integer from 1 to 4096; got "many"']);
    const unknown = capture();
    expect(await main(['nosuch'], [sample], unknown.io)).not.toBe(0);
    expect(unknown.err()).toContain("unknown command 'nosuch'");
    const failing: Section = { ...sample, run: () => Promise.reject(new Error('boom\n    at somewhere')) };
    const crash = capture();
    expect(await main(['sample'], [failing], crash.io)).toBe(1);
    expect(crash.err()).toBe('kernsim: boom\n');
  });
});
