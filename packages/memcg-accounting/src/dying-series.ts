import type { Prng } from '@kernsim/prng';
// The dying-cgroup series: days of short-lived containers (CI jobs, cron jobs) on one host.
// Every container leaves cached dentries and a few longer-lived objects behind; a removed
// memory cgroup stays alive while something pins it. Seeded; a simulated clock of 10 minutes.
import { type Accounting, type DesignId, GFP_ACCOUNT } from './accounting.js';
import { ROOT_CGROUP } from './cgroup-tree.js';
import { ObjcgAccounting } from './design-objcg.js';
import { createDesign } from './designs.js';
import { Kernel } from './kernel-users.js';
import { MIB, pagesFor, sized, type WorkloadOptions } from './workloads.js';

/** One sample of the dying-cgroup series. */
export interface DyingSample {
  readonly hour: number;
  readonly containersStarted: number;
  /** Removed memory cgroups whose structure is still alive (pinned by dead caches or slabs). */
  readonly deadCgroupsAlive: number;
  readonly deadCaches: number;
  /** Today's design: obj_cgroups of removed cgroups kept by live objects (the cgroup itself is freed). */
  readonly deadObjcgsAlive: number;
  readonly slabPages: number;
  /** Bytes of live objects allocated by containers that are gone. */
  readonly leftBehindBytes: number;
}

export interface DyingSeries {
  readonly design: DesignId;
  readonly days: number;
  readonly samples: readonly DyingSample[];
}

/** Steps of 10 minutes. */
const STEPS_PER_HOUR = 6;
const SAMPLE_HOURS = 6;
/** Background reclaim frees this fraction of the cached (unused) dentries every hour: other tenants' pressure, an estimate. */
const HOURLY_RECLAIM = 0.02;
/** Mean life of the objects a container leaves with the host (log file handles, sockets in shared daemons): an estimate. */
const LINGER_MEAN_HOURS = 6;

function sample(design: Accounting, hour: number, started: number, removed: ReadonlySet<number>): DyingSample {
  let leftBehind = 0;
  for (const [cg, bytes] of design.usedBytes()) if (removed.has(cg)) leftBehind += bytes;
  return {
    hour,
    containersStarted: started,
    deadCgroupsAlive: design.deadCgroupsAlive(),
    deadCaches: design.deadCaches(),
    deadObjcgsAlive: design instanceof ObjcgAccounting ? design.deadObjcgsAlive() : 0,
    slabPages: design.slabs.slabPages,
    leftBehindBytes: leftBehind,
  };
}

interface Job {
  readonly cg: number;
  readonly task: number;
  readonly cpu: number;
  readonly until: number;
  readonly objects: number[];
}

/** Exponentially distributed steps with the given mean (inverse transform of a uniform draw). */
function lifetime(prng: Prng, meanSteps: number): number {
  return Math.max(1, Math.round(-Math.log(1 - prng.next()) * meanSteps));
}

function startJob(design: Accounting, kernel: Kernel, prng: Prng, parent: number, n: number, step: number): Job {
  const cg = design.createCgroup(parent, `job${String(n)}`);
  const task = 100 + n;
  const cpu = n % design.config.cpus;
  design.attach(task, cg);
  kernel.fork(task);
  for (let k = 100 + prng.int(200); k > 0; k--) kernel.lookup(task, cpu, 8 + prng.int(50));
  const objects: number[] = [];
  for (let k = 0; k < 20; k++) {
    const h = design.alloc(kernel.kmallocIndex(8 + prng.int(1500)), task, cpu, GFP_ACCOUNT);
    if (h >= 0) objects.push(h);
  }
  return { cg, task, cpu, until: step + 1 + prng.int(6), objects };
}

/**
 * `7 x scale` days (at least one) of container churn: every 10 minutes 0, 1 or 2 jobs start
 * (one on average) in /jobs; each looks up 100-299 files and kmallocs 20 objects, runs 10 to 60
 * minutes, exits and is removed. Two of its objects stay with the host for an exponentially
 * distributed time (mean 6 hours); its dentries stay cached until reclaim, which frees 2% of
 * the cached dentries every hour. A sample every 6 hours.
 */
export function dyingCgroupSeries(id: DesignId, options: WorkloadOptions = {}): DyingSeries {
  const { prng, scale } = sized(options);
  const days = Math.max(1, Math.round(7 * scale));
  const design = createDesign(id, { pages: pagesFor(1024 * MIB), cpus: 2 }, options.design);
  const kernel = new Kernel(design);
  const parent = design.createCgroup(ROOT_CGROUP, 'jobs');
  const running: Job[] = [];
  const lingering: { h: number; cpu: number; until: number }[] = [];
  const removed = new Set<number>();
  const samples: DyingSample[] = [sample(design, 0, 0, removed)];
  let started = 0;
  const steps = days * 24 * STEPS_PER_HOUR;
  for (let step = 1; step <= steps; step++) {
    for (let n = prng.int(3); n > 0; n--) running.push(startJob(design, kernel, prng, parent, started++, step));
    for (let i = running.length - 1; i >= 0; i--) {
      const job = running[i];
      if (job === undefined || job.until > step) continue;
      running.splice(i, 1);
      job.objects.forEach((h, k) => {
        if (k < 2) lingering.push({ h, cpu: job.cpu, until: step + lifetime(prng, LINGER_MEAN_HOURS * STEPS_PER_HOUR) });
        else design.free(h, job.cpu);
      });
      kernel.exit(job.task);
      design.exit(job.task);
      design.removeCgroup(job.cg);
      removed.add(job.cg);
    }
    for (let i = lingering.length - 1; i >= 0; i--) {
      const obj = lingering[i];
      if (obj === undefined || obj.until > step) continue;
      lingering.splice(i, 1);
      design.free(obj.h, obj.cpu);
    }
    if (step % STEPS_PER_HOUR === 0) kernel.shrinkDcache(-1, Math.floor(kernel.cachedTotal() * HOURLY_RECLAIM), true);
    design.runWork();
    if (step % (SAMPLE_HOURS * STEPS_PER_HOUR) === 0) samples.push(sample(design, step / STEPS_PER_HOUR, started, removed));
  }
  return { design: design.id, days, samples };
}
