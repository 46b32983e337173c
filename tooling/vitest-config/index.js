// Every package runs its tests on sources (the `@kernsim/source` condition) and leaves a
// JSON report that `scripts/test.mjs` sums into the closing `N passed, N failed` line.
import { defineConfig } from 'vitest/config';

/** @param {{ testTimeout?: number, hookTimeout?: number }} [options] */
export function kernsimVitestConfig(options = {}) {
  return defineConfig({
    resolve: { conditions: ['@kernsim/source'] },
    ssr: { resolve: { conditions: ['@kernsim/source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      passWithNoTests: true,
      testTimeout: options.testTimeout ?? 60_000,
      // Fixtures built in beforeAll (git repositories, packed tarballs) are as slow as tests.
      hookTimeout: options.hookTimeout ?? options.testTimeout ?? 60_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-report.json' },
    },
  });
}
