// Every change to a published package needs a changeset. For each package under packages/,
// the range is "since its last release" (the last commit that touched its CHANGELOG.md) or,
// before any release, since CHECK_SINCE, the commit this check arrived after. If files the
// package ships changed in that range (committed or not), a pending changeset that names
// the package must have been written in that range too — the rule `changeset status` applies
// to a branch, applied here to the unreleased history so CI on a plain clone can check it.
// Exit 1 with one line per package that lacks one.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CHECK_SINCE = '1178222';
const root = join(import.meta.dirname, '..');
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();

// Files a package does not ship: tests, test support, benchmarks.
const notShipped = [':(exclude,glob)**/*.test.ts', ':(exclude,glob)**/*.test-support.ts', ':(exclude,glob)**/test-support.ts', ':(exclude,glob)**/testing/**'];

function namesIn(file) {
  const text = readFileSync(join(root, '.changeset', file), 'utf8');
  const front = /^---\n([\s\S]*?)\n---/.exec(text);
  if (!front) return [];
  return [...front[1].matchAll(/^\s*["']?(@kernsim\/[\w.-]+)["']?\s*:/gm)].map((m) => m[1]);
}

function main() {
  try {
    git('rev-parse', '--verify', `${CHECK_SINCE}^{commit}`);
  } catch {
    console.error(`changesets: commit ${CHECK_SINCE} is not in this clone (shallow?); cannot check`);
    return 1;
  }
  const pending = readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  const missing = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const manifestPath = join(root, 'packages', dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.private) continue;
    const released = git('log', '-1', '--format=%H', '--', `packages/${dir}/CHANGELOG.md`);
    const base = released || CHECK_SINCE;
    const shipped = [`packages/${dir}/src`, `packages/${dir}/package.json`, ...notShipped];
    const committed = git('log', '--format=%H', `${base}..HEAD`, '--', ...shipped) !== '';
    const uncommitted = git('status', '--porcelain', '--', ...shipped) !== '';
    if (!committed && !uncommitted) continue;
    const covered = pending.some(
      (file) =>
        namesIn(file).includes(manifest.name) &&
        (git('log', '--format=%H', `${base}..HEAD`, '--', `.changeset/${file}`) !== '' ||
          git('status', '--porcelain', '--', `.changeset/${file}`) !== ''),
    );
    if (!covered) missing.push(manifest.name);
  }
  for (const name of missing) {
    console.error(`changesets: ${name} changed since its last release but no changeset names it (run pnpm changeset)`);
  }
  if (missing.length === 0) console.log('changesets: every changed published package has one');
  return missing.length === 0 ? 0 : 1;
}

process.exit(main());
