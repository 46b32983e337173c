// Builds the gitdm comparison fixture and prints `<repository> <configuration directory>`
// (see fixtures/README.md: that is what real gitdm is run on to make expected.txt).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGitdmFixture, writeGitdmFixtureConfig } from './gitdm-fixture.test-support.js';

const repo = buildGitdmFixture();
const configDir = mkdtempSync(join(tmpdir(), 'gitdm-fixture-config-'));
writeGitdmFixtureConfig(configDir);
process.stdout.write(`${repo.dir} ${configDir}\n`);
