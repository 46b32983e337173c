import { kernsimConfig } from '@kernsim/eslint-config';

export default kernsimConfig(import.meta.dirname);
