import { kernsimVitestConfig } from '@kernsim/vitest-config';

// Packing and installing every package takes a while on two cores.
export default kernsimVitestConfig({ testTimeout: 600_000 });
