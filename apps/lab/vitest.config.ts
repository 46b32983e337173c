import { mergeConfig } from 'vitest/config';
import { kernsimVitestConfig } from '@kernsim/vitest-config';

// The browser tests run against the built page: test/global-setup.ts builds it once and serves it.
export default mergeConfig(kernsimVitestConfig({ testTimeout: 180_000, hookTimeout: 180_000 }), {
  test: { globalSetup: ['test/global-setup.ts'], fileParallelism: false },
});
