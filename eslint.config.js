// Lints what no package owns: scripts/ and tooling/ (each package lints itself).
import { scriptConfig } from '@kernsim/eslint-config';

export default scriptConfig();
