import type { UserConfig } from 'vitest/config';

export declare function kernsimVitestConfig(options?: { testTimeout?: number; hookTimeout?: number }): UserConfig;
