#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { main } from './cli.js';
import { sections } from './sections/index.js';

process.exitCode = await main(process.argv.slice(2), sections, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  writeFile: (path, contents) => writeFile(path, contents, 'utf8'),
});
