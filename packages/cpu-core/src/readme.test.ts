import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';
import { MODELLED_COSTS } from './machine/timing/costs.js';

/** The first ```ts block of the README, with its import line removed. */
function readmeExample(): { names: string[]; body: string } {
  const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = text.indexOf('```ts\n') + 6;
  const block = text.slice(start, text.indexOf('```', start));
  const importLine = /^import \{([^}]*)\} from '@kernsim\/cpu-core';\n/m.exec(block);
  if (!importLine) throw new Error('the README example must import from @kernsim/cpu-core');
  return { names: importLine[1]!.split(',').map((s) => s.trim()), body: block.replace(importLine[0], '') };
}

describe('README', () => {
  it('the example runs as written and prints what its comment says', () => {
    const { names, body } = readmeExample();
    const printed: unknown[] = [];
    const values = names.map((n) => (api as Record<string, unknown>)[n]);
    expect(values.every((v) => v !== undefined)).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- runs the README's own text, so the example cannot drift from the API
    const run = new Function(...names, 'console', body) as (...args: unknown[]) => void;
    run(...values, { log: (...xs: unknown[]) => printed.push(...xs) });
    const promised = /\/\/ (\S+)\s*$/m.exec(body.trim().split('\n').at(-1)!)![1]!;
    expect(String(printed[0]) + (typeof printed[0] === 'bigint' ? 'n' : '')).toBe(promised);
  });

  it('the timing table lists every modelled figure with the cycles the machine charges', () => {
    const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = new Map([...text.matchAll(/^\| `(\w+)` \| (\d+) \| (published|derived) \|/gm)].map((r) => [r[1]!, { cycles: Number(r[2]), basis: r[3] }]));
    for (const [name, figure] of Object.entries(MODELLED_COSTS)) expect(rows.get(name), name).toEqual({ cycles: figure.cycles, basis: figure.basis });
    expect(api.createMachine({ arch: 'x86_64', cpus: 1 }).timing.costs).toEqual(MODELLED_COSTS);
  });
});
