#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '@kernsim/dev-stats';
import { main } from './cli.js';
import { sections } from './sections/index.js';
import { handleStdoutErrors } from './stdout-errors.js';

handleStdoutErrors(process.stdout, process.stderr, (code) => process.exit(code));

process.exitCode = await main(process.argv.slice(2), sections, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // Beside the target, then renamed: never half a report; failures name the path.
  writeFile: writeFileAtomic,
  readFile: (path) => readFile(path, 'utf8'),
  stderrIsTTY: process.stderr.isTTY,
  onInterrupt: (callback) => process.once('SIGINT', callback),
  now: () => performance.now(),
});
