// `pnpm test`: the changeset check, lint (packages and the repository's own scripts),
// typecheck and every package's tests through turbo, then one closing line
// `N passed, N failed` summed over the packages' Vitest JSON reports. A lint, typecheck or
// changeset check that fails counts as one failure, so the line never hides a red run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const workspaces = ['packages', 'apps']
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')));
const reportOf = (dir) => join(dir, '.vitest-report.json');
for (const dir of workspaces) rmSync(reportOf(dir), { force: true });

const changesets = spawnSync(process.execPath, [join(root, 'scripts', 'check-changesets.mjs')], { cwd: root, stdio: 'inherit' });

const runsDir = join(root, '.turbo', 'runs');
const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
const turbo = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'lint', 'lint:repo', 'typecheck', 'test', '--continue', '--summarize', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of workspaces) {
  if (!existsSync(reportOf(dir))) continue;
  const report = JSON.parse(readFileSync(reportOf(dir), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}

// Tasks that failed without a failing test behind them: lint, typecheck, a crashed runner.
const summaries = existsSync(runsDir)
  ? readdirSync(runsDir)
      .filter((name) => !before.has(name) && name.endsWith('.json'))
      .sort((a, b) => statSync(join(runsDir, a)).mtimeMs - statSync(join(runsDir, b)).mtimeMs)
  : [];
const latest = summaries.at(-1);
const failedTasks = latest
  ? JSON.parse(readFileSync(join(runsDir, latest), 'utf8')).tasks.filter(
      (task) => task.execution?.exitCode !== 0 && task.execution?.exitCode !== undefined,
    )
  : [];
const otherFailures = failedTasks.filter((task) => task.task !== 'test').length;
const crashedTestRuns = failedTasks.filter(
  (task) => task.task === 'test' && failed === 0,
).length;
for (const task of failedTasks) console.log(`failed task: ${task.taskId}`);
if (turbo.status !== 0 && failedTasks.length === 0) failed += 1;
failed += otherFailures + crashedTestRuns;
if (changesets.status !== 0) {
  console.log('failed task: changeset check');
  failed += 1;
}

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || turbo.status !== 0 ? 1 : 0);
