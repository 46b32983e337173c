import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@kernsim/dev-stats';
import { describe, expect, it } from 'vitest';
import { main, type Io } from './cli.js';
import { dateOption, intChoiceOption, intOption } from './sections/options.js';
import type { Section } from './sections/section.js';

interface Captured {
  io: Io;
  out: () => string;
  err: () => string;
  files: Map<string, string>;
}

function capture(options: { tty?: boolean; env?: NodeJS.ProcessEnv; disk?: boolean } = {}): Captured {
  let out = '';
  let err = '';
  const files = new Map<string, string>();
  const io: Io = {
    stdout: { write: (text: string) => (out += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (err += text) },
    env: options.env ?? {},
    writeFile: options.disk === true ? writeFileAtomic : (path, contents) => {
      files.set(path, contents);
      return Promise.resolve();
    },
  };
  return { io, out: () => out, err: () => err, files };
}

const OSC = '\u001b]0;pwned\u0007';
const hostile = `<script>alert("x")</script> & O'Brien ${OSC}\u009b2J`;
// Control characters a terminal acts on (newlines aside).
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
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
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; O&#39;Brien \\x1b]0;pwned\\x07\\x9b2J');
    expect(html).not.toMatch(RAW);
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
    // The form pnpm passes on for `pnpm demo -- sample --help`: help, not a run of the section.
    const dashed = capture();
    expect(await main(['--', 'sample', '--help'], [sample], dashed.io)).toBe(0);
    expect(dashed.out()).toContain('--cpus <n>');
    const top2 = capture();
    expect(await main(['--', '--help'], [sample], top2.io)).toBe(0);
    expect(top2.out()).toContain('sample');
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

  it('exits 2 for every kind of bad usage', async () => {
    for (const args of [['sample', '--bogus'], ['--bogus'], ['nosuch'], ['sample', '--cpus'], ['sample', '--cpus', '0']]) {
      const c = capture();
      expect(await main(args, [sample], c.io), args.join(' ')).toBe(2);
    }
    for (const args of [['--help'], ['sample', '--help'], ['--version']]) {
      expect(await main(args, [sample], capture().io), args.join(' ')).toBe(0);
    }
  });

  it('shows control characters from outside as \\xNN in text and in messages; JSON stays exact', async () => {
    const text = capture({ tty: true });
    await main(['sample'], [sample], text.io);
    // The only escape sequences left are the colours the renderer adds itself.
    // eslint-disable-next-line no-control-regex
    expect(text.out().replace(/\u001b\[\d+m/g, '')).not.toMatch(RAW);
    expect(text.out()).toContain('\\x1b]0;pwned\\x07\\x9b2J');
    const json = capture();
    await main(['sample', '--json'], [{ ...sample, run: () => ({ id: 'sample', title: 't', blocks: [], data: { name: hostile } }) }], json.io);
    expect((JSON.parse(json.out()) as { sections: { data: { name: string } }[] }).sections[0]?.data.name).toBe(hostile);
    const failing = capture();
    expect(await main(['sample'], [{ ...sample, run: () => Promise.reject(new Error(`bad name ${OSC}`)) }], failing.io)).toBe(1);
    expect(failing.err()).toBe('kernsim: bad name \\x1b]0;pwned\\x07\n');
    const option = capture();
    expect(await main(['sample', `--x${OSC}`], [sample], option.io)).toBe(2);
    expect(option.err()).not.toMatch(RAW);
  });

  it('writes --html atomically and names the path it cannot write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kernsim-html-'));
    const ok = capture({ disk: true });
    expect(await main(['sample', '--html', join(dir, 'report.html')], [sample], ok.io)).toBe(0);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<\/html>\n$/);
    const failed = capture({ disk: true });
    expect(await main(['sample', '--html', dir], [sample], failed.io)).toBe(1);
    expect(failed.err()).toBe(`kernsim: cannot write ${dir}: is a directory\n`);
    const missing = capture({ disk: true });
    expect(await main(['sample', '--html', join(dir, 'nope', 'r.html')], [sample], missing.io)).toBe(1);
    expect(missing.err()).toBe(`kernsim: cannot write ${join(dir, 'nope', 'r.html')}: no such file or directory\n`);
    expect(readdirSync(dir)).toEqual(['report.html']);
  });

  it('options with a fixed set of values reject the others', () => {
    expect(intChoiceOption({ maxCpus: '16' }, 'maxCpus', [2, 4, 16, 64], 64)).toBe(16);
    expect(intChoiceOption({}, 'maxCpus', [2, 4, 16, 64], 64)).toBe(64);
    for (const bad of ['5', '16.0', '-4', 'x', '']) {
      expect(() => intChoiceOption({ maxCpus: bad }, 'maxCpus', [2, 4, 16, 64], 64)).toThrow(`--max-cpus must be one of 2, 4, 16, 64; got "${bad}"`);
    }
    expect(dateOption({ now: '2012-02-29' }, 'now', 'x')).toBe('2012-02-29');
    for (const bad of ['2011-02-29', '2012-13-01', 'today', '2012-3-1']) {
      expect(() => dateOption({ now: bad }, 'now', 'x')).toThrow(expect.objectContaining({ code: 'KERNSIM_USAGE' }));
    }
  });
});
