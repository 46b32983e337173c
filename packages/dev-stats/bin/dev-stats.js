#!/usr/bin/env node
// The published entry point: runs the compiled CLI (npm's bin shim needs plain JS).
import { runFromProcess } from '../dist/cli.js';

await runFromProcess();
