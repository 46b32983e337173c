#!/usr/bin/env node
import { writeFileAtomic } from '@kernsim/dev-stats';
import { main } from './cli.js';
import { sections } from './sections/index.js';

process.exitCode = await main(process.argv.slice(2), sections, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // Beside the target, then renamed: never half a report; failures name the path.
  writeFile: writeFileAtomic,
});
