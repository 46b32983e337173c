// What a user of the published packages gets: every package packs with pnpm (which applies
// publishConfig and rewrites workspace: ranges), passes publint, installs into an empty
// project with npm, and each public entry (and bin) loads in plain Node, no TypeScript loader.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Manifest {
  name: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
}

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const packageDirs = readdirSync(join(repoRoot, 'packages')).map((name) => join(repoRoot, 'packages', name));
const readManifest = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

function pnpm(args: string[], cwd: string): string {
  // Under `pnpm test`, npm_execpath is the pnpm that runs us; otherwise expect pnpm on PATH.
  const execPath = process.env.npm_execpath;
  if (execPath?.includes('pnpm')) {
    return execFileSync(process.execPath, [execPath, ...args], { cwd, encoding: 'utf8' });
  }
  return execFileSync('pnpm', args, { cwd, encoding: 'utf8' });
}

let work = '';
const tarballs = new Map<string, string>();
let project = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kernsim-pack-'));
  project = join(work, 'consumer');
  // No build step here on purpose: each package's `prepack` must build it from a clean tree.
  for (const dir of packageDirs) {
    const out = pnpm(['pack', '--pack-destination', work], dir).trim().split('\n');
    tarballs.set(readManifest(join(dir, 'package.json')).name, out[out.length - 1]!.trim());
  }
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs.values()], {
    cwd: project,
    encoding: 'utf8',
  });
});

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe.each(packageDirs.map((dir) => [readManifest(join(dir, 'package.json')).name, dir] as const))(
  'published %s',
  (name, dir) => {
    it('ships no test code', () => {
      const tarball = tarballs.get(name);
      expect(tarball).toBeDefined();
      const files = execFileSync('tar', ['-tzf', tarball!], { encoding: 'utf8' }).split('\n');
      expect(files.some((file) => file.startsWith('package/dist/'))).toBe(true);
      expect(files.filter((file) => /\.test\.|test-support|\/testing\//.test(file))).toEqual([]);
    });

    it('is publint-clean', async () => {
      const { messages, pkg } = await publint({ pkgDir: dir, pack: 'pnpm', level: 'suggestion' });
      expect(messages.map((message) => formatMessage(message, pkg))).toEqual([]);
    });

    it('has a manifest without workspace ranges or the source condition', () => {
      const text = readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8');
      expect(text).not.toContain('workspace:');
      expect(JSON.stringify(readManifest(join(project, 'node_modules', name, 'package.json')).exports)).not.toContain(
        '@kernsim/source',
      );
    });

    it('imports every public entry from plain Node', () => {
      const manifest = readManifest(join(project, 'node_modules', name, 'package.json'));
      const entries = Object.entries(manifest.exports ?? {})
        .filter(([subpath, target]) => target !== null && !subpath.includes('*') && !subpath.endsWith('.json'))
        .map(([subpath]) => (subpath === '.' ? name : `${name}/${subpath.slice(2)}`));
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        const keys = execFileSync(
          process.execPath,
          ['--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m)));`],
          { cwd: project, encoding: 'utf8' },
        );
        expect(Array.isArray(JSON.parse(keys))).toBe(true);
      }
    });

    it('runs its command-line tools', () => {
      const manifest = readManifest(join(project, 'node_modules', name, 'package.json'));
      for (const bin of Object.keys(manifest.bin ?? {})) {
        const help = execFileSync(join(project, 'node_modules', '.bin', bin), ['--help'], { encoding: 'utf8' });
        expect(help).toContain('Usage');
      }
    });
  },
);
