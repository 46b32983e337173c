import { kernsimVitestConfig } from '@kernsim/vitest-config';

export default kernsimVitestConfig();
