import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configToParams, normalizeConfig, paramsToConfig, SCENARIO_IDS, SERIES_PARTS } from './config.js';
import type { NmiConfig } from './config.js';

const configs = fc
  .record({
    scenario: fc.constantFrom(...SCENARIO_IDS),
    arch: fc.constantFrom('x86_64' as const, 'i386' as const),
    entry: fc.constantFrom('naive' as const, 'nested' as const),
    without: fc.option(fc.constantFrom(...SERIES_PARTS), { nil: undefined }),
    delay: fc.option(fc.integer({ min: 0, max: 999_999 }), { nil: undefined }),
    injections: fc.array(fc.record({ step: fc.integer({ min: 0, max: 9_999_999 }), source: fc.constantFrom('watchdog' as const, 'sampler' as const) }), { maxLength: 4 }),
  })
  .map((c): NmiConfig => normalizeConfig(c));

describe('the shareable URL', () => {
  it('gives back the run and the step it encodes', () => {
    fc.assert(
      fc.property(configs, fc.integer({ min: 0, max: 9_999_999 }), (config, step) => {
        expect(paramsToConfig(configToParams(config, step))).toEqual({ config, step });
      }),
    );
  });

  it('falls back to the defaults on anything it does not know', () => {
    const { config, step } = paramsToConfig(new URLSearchParams('scenario=<script>&arch=arm&entry=x&without=nope&delay=-1&inject=a,12,7s&step=1e9'));
    expect(config).toEqual({ scenario: 'watchdog-dump', arch: 'x86_64', entry: 'nested', without: undefined, delay: undefined, injections: [{ step: 7, source: 'sampler' }, { step: 12, source: 'watchdog' }] });
    expect(step).toBeUndefined();
  });

  it('never asks for an i386 debug-stack run or a part left out of the naive entry', () => {
    expect(normalizeConfig({ scenario: 'debug-stack', arch: 'i386', entry: 'nested', without: undefined, delay: undefined, injections: [] }).arch).toBe('x86_64');
    expect(normalizeConfig({ scenario: 'storm', arch: 'x86_64', entry: 'naive', without: 'repeatGuard', delay: undefined, injections: [] }).without).toBeUndefined();
  });
});
