// dev-stats benchmarks: parse throughput on a generated numstat log, and end-to-end time
// on a real repository relative to plain `git log --numstat` over the same range.
//   KERNSIM_BENCH_REPO   repository to read (default: this project's own repository)
//   KERNSIM_BENCH_RANGE  revision range (default: HEAD, the whole history)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Prng } from '@kernsim/prng';
import { Attribution, GitdmEmulator, LineDecoder, LogParser, StatsAccumulator, buildReport, collectStats } from '@kernsim/dev-stats';

const TARGET_BYTES = 50 * 1024 * 1024;

/** A `git log --numstat` log in git's default format, as gitdm reads it, ~50 MB. */
function generateNumstatLog(): Buffer {
  // @kernsim/prng's seeded generator, so every run parses the same log.
  const random = new Prng(2012);
  const pick = (n: number): number => random.int(n);
  const authors = Array.from({ length: 4000 }, (_, i) => [`Developer ${i}`, `dev${i}@company${i % 200}.example`] as const);
  const dirs = ['drivers/net', 'drivers/staging', 'fs/ext4', 'kernel/sched', 'mm', 'sound/soc/codecs', 'arch/x86/kernel', 'include/linux'];
  const parts: string[] = [];
  let size = 0;
  let n = 0;
  while (size < TARGET_BYTES) {
    const [name, email] = authors[pick(authors.length)] ?? ['x', 'x@x'];
    const [sob] = authors[pick(authors.length)] ?? ['y'];
    const files = 1 + pick(6);
    const lines = [
      `commit ${(n++).toString(16).padStart(40, '0')}`,
      `Author: ${name} <${email}>`,
      `Date:   Mon Mar ${1 + pick(28)} 10:${String(pick(60)).padStart(2, '0')}:00 2012 +0100`,
      '',
      `    subsystem: fix the thing number ${n}`,
      '    ',
      '    A longer explanation of the change, as kernel commit messages have, which',
      '    wraps over a couple of lines before the trailers.',
      '    ',
      `    Signed-off-by: ${name} <${email}>`,
      `    Signed-off-by: ${sob} <maintainer@kernel.example>`,
      '',
    ];
    for (let f = 0; f < files; f++) {
      const binary = pick(50) === 0;
      lines.push(`${binary ? '-' : pick(200)}\t${binary ? '-' : pick(120)}\t${dirs[pick(dirs.length)] ?? ''}/file${pick(500)}.c`);
    }
    lines.push('');
    const text = `${lines.join('\n')}\n`;
    parts.push(text);
    size += Buffer.byteLength(text);
  }
  return Buffer.from(parts.join(''));
}

/** `--gitdm` over the same log: gitdm's identity rules and report, line by line. */
function benchGitdm(log: Buffer): void {
  let bestCpu = Infinity;
  for (let round = 0; round < 2; round++) {
    const emulator = new GitdmEmulator({ today: '2012-12-31', numstat: true });
    const decoder = new LineDecoder();
    const line = (text: string): void => {
      emulator.line(text);
    };
    const cpuStart = process.cpuUsage();
    for (let offset = 0; offset < log.length; offset += 64 * 1024) decoder.push(log.subarray(offset, offset + 64 * 1024), line);
    decoder.end(line);
    emulator.end();
    const cpu = process.cpuUsage(cpuStart);
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1000);
  }
  console.log(`dev-stats.gitdm-parse-cpu: ${(log.length / (1024 * 1024) / (bestCpu / 1000)).toFixed(1)} MB/s`);
}

function benchParse(): Buffer {
  const log = generateNumstatLog();
  const chunk = 64 * 1024;
  let best = Infinity;
  let bestCpu = Infinity;
  let commits = 0;
  for (let round = 0; round < 3; round++) {
    const acc = new StatsAccumulator(new Attribution());
    const parser = new LogParser((c) => {
      acc.add(c);
    });
    const decoder = new LineDecoder();
    const line = (text: string): void => {
      parser.line(text);
    };
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    for (let offset = 0; offset < log.length; offset += chunk) decoder.push(log.subarray(offset, offset + chunk), line);
    decoder.end(line);
    parser.end();
    best = Math.min(best, performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1000);
    commits = acc.changesets;
  }
  const mb = log.length / (1024 * 1024);
  console.log(`dev-stats.parse: ${(mb / (best / 1000)).toFixed(1)} MB/s`);
  // The same over CPU time: steadier when other processes share the machine.
  console.log(`dev-stats.parse-cpu: ${(mb / (bestCpu / 1000)).toFixed(1)} MB/s`);
  console.log(`dev-stats.parse-log-size: ${mb.toFixed(1)} MB`);
  console.log(`dev-stats.parse-commits: ${commits} commits`);
  return log;
}

function timeGitLog(repo: string, range: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('git', ['-C', repo, 'log', '--numstat', range], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (data: Buffer) => {
      bytes += data.length;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ ms: performance.now() - start, bytes });
      else reject(new Error(`git log exited with ${code}`));
    });
  });
}

async function timeDevStats(repo: string, range: string, jobs: number, cache: string | false): Promise<{ ms: number; changesets: number }> {
  const start = performance.now();
  const { accumulator, config } = await collectStats({ repo, revisions: [range], jobs, cache });
  buildReport(accumulator, { top: 20, ...(config === undefined ? {} : { config }) });
  return { ms: performance.now() - start, changesets: accumulator.changesets };
}

async function benchEndToEnd(): Promise<void> {
  const repo = process.env.KERNSIM_BENCH_REPO ?? process.cwd();
  const range = process.env.KERNSIM_BENCH_RANGE ?? 'HEAD';
  console.log(`# end-to-end repository: ${repo} (${process.env.KERNSIM_BENCH_REPO === undefined ? "this project's own; set KERNSIM_BENCH_REPO for a large one" : 'KERNSIM_BENCH_REPO'}), range ${range}`);
  const baseline = await timeGitLog(repo, range);
  const serial = await timeDevStats(repo, range, 1, false);
  const parallel = await timeDevStats(repo, range, 2, false);
  const cacheDir = mkdtempSync(join(tmpdir(), 'dev-stats-bench-cache-'));
  try {
    await timeDevStats(repo, range, 2, cacheDir);
    const cached = await timeDevStats(repo, range, 2, cacheDir);
    console.log(`dev-stats.git-log-numstat: ${(baseline.ms / 1000).toFixed(2)} s`);
    console.log(`dev-stats.end-to-end: ${(parallel.ms / 1000).toFixed(2)} s`);
    console.log(`dev-stats.end-to-end-ratio: ${(parallel.ms / baseline.ms).toFixed(2)} x`);
    console.log(`dev-stats.end-to-end-ratio-one-job: ${(serial.ms / baseline.ms).toFixed(2)} x`);
    console.log(`dev-stats.cached-ratio: ${(cached.ms / baseline.ms).toFixed(3)} x`);
    console.log(`dev-stats.changesets: ${parallel.changesets} changesets`);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

benchGitdm(benchParse());
await benchEndToEnd();
