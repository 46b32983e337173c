// Writes the table of supported instructions into the package README (between its markers).
import { readFileSync, writeFileSync } from 'node:fs';
import { casesPerForm, loadCorpus } from '../../src/testing/golden.js';
import { isaTable, withIsaTable } from '../../src/testing/isa-readme.js';

const path = new URL('../../README.md', import.meta.url);
writeFileSync(path, withIsaTable(readFileSync(path, 'utf8'), isaTable(casesPerForm(loadCorpus()))));
console.log('README.md: instruction table written');
