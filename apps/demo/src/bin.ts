#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { main } from './cli.js';
import { sections } from './sections/index.js';

process.exitCode = await main(process.argv.slice(2), sections, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  writeFile: (path, contents) => writeFile(path, contents, 'utf8'),
  readFile: (path) => readFile(path, 'utf8'),
  stderrIsTTY: process.stderr.isTTY,
  onInterrupt: (callback) => process.once('SIGINT', callback),
  now: () => performance.now(),
});
