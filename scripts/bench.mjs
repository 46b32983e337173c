// `pnpm bench`: runs every package's bench/ suite one after another (timings need the
// machine to themselves), echoes its output, and collects each `name: value unit` line
// into bench-results.json at the repository root. `pnpm bench [package…] [-- args…]`: names
// choose the suites; what follows `--` (or the first option) goes to each suite's bench script,
// e.g. `pnpm bench text-patching -- --max-cpus 4096` or `pnpm bench cpu-core -- explore`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const dashes = args.indexOf('--');
const firstOption = args.findIndex((arg) => arg.startsWith('-'));
const cut = dashes >= 0 ? dashes : firstOption >= 0 ? firstOption : args.length;
const only = args.slice(0, cut);
const forwarded = args.slice(dashes >= 0 ? cut + 1 : cut);
// Apps with a bench/ (the lab's browser figures) run after the packages.
const packages = ['packages', 'apps'].flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((name) => existsSync(join(root, dir, name, 'bench', 'index.ts')))
    .filter((name) => only.length === 0 || only.includes(name))
    .sort()
    .map((name) => ({ dir, name })),
);

const unknown = only.filter((name) => !packages.some((p) => p.name === name));
if (unknown.length > 0) {
  console.error(`bench: no bench suite named ${unknown.join(', ')}`);
  process.exit(2);
}

const figure = /^([A-Za-z0-9_.-]+): (-?[0-9][0-9.e+-]*) (\S+)\s*$/;
const results = [];
let failures = 0;
for (const { dir, name } of packages) {
  console.log(`\n# ${name}`);
  const run = spawnSync('pnpm', ['--silent', 'run', 'bench', ...forwarded], {
    cwd: join(root, dir, name),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(run.stdout ?? '');
  if (run.status !== 0) {
    failures += 1;
    console.error(`bench: ${name} exited with ${run.status ?? run.signal}`);
  }
  for (const line of (run.stdout ?? '').split('\n')) {
    const match = figure.exec(line);
    if (match) results.push({ package: `@kernsim/${name}`, name: match[1], value: Number(match[2]), unit: match[3] });
  }
}
writeFileSync(join(root, 'bench-results.json'), `${JSON.stringify({ results }, null, 2)}\n`);
console.log(`\nbench: ${results.length} figures from ${packages.length} packages written to bench-results.json`);
process.exit(failures > 0 ? 1 : 0);
