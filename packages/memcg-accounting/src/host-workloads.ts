import type { Prng } from '@kernsim/prng';
// Workloads modelled on real container hosts (rather than worst cases): a host running web,
// database, DNS and build containers side by side, and a dying-cgroup series over days of
// container churn. Both are seeded and use a simulated clock of 10-minute steps.
import { type Accounting, type DesignId, GFP_KERNEL } from './accounting.js';
import { ROOT_CGROUP } from './cgroup-tree.js';
import { createDesign } from './designs.js';
import { type ContainerProfile, HOST_CACHES, PER_TASK_CACHES, PROFILES } from './host-profiles.js';
import { Kernel } from './kernel-users.js';
import { collect, type WorkloadResult } from './workload-result.js';
import { MIB, pagesFor, sized, type WorkloadOptions } from './workloads.js';

/** One container of the host: its cgroup, its processes and the objects it holds, by cache. */
interface Container {
  readonly cg: number;
  readonly cpu: number;
  readonly profile: ContainerProfile;
  readonly tasks: number[];
  readonly taskObjects: Map<number, number[]>;
  readonly held: Map<string, number[]>;
  packets: (readonly [number, number])[];
}

/** The host's kernel, the next free task id, and a count of failed allocations. */
interface Host {
  readonly design: Accounting;
  readonly kernel: Kernel;
  readonly prng: Prng;
  nextTask: number;
  failed: number;
}

function cacheIndex(host: Host, name: string): number {
  const index = host.kernel.named.get(name);
  if (index === undefined) throw new Error(`host cache ${name} missing`);
  return index;
}

function allocInto(host: Host, list: number[], cache: number, task: number, cpu: number, flags = GFP_KERNEL): void {
  const h = host.design.alloc(cache, task, cpu, flags);
  if (h < 0) host.failed++;
  else list.push(h);
}

/** fork: a kernel stack and the per-process structures (task, mm, files, signal, creds, VMAs come with the mix). */
function forkTask(host: Host, c: Container): void {
  const task = host.nextTask++;
  host.design.attach(task, c.cg);
  if (!host.kernel.fork(task)) host.failed++;
  const objs: number[] = [];
  for (const name of PER_TASK_CACHES) allocInto(host, objs, cacheIndex(host, name), task, c.cpu);
  c.tasks.push(task);
  c.taskObjects.set(task, objs);
}

function exitTask(host: Host, c: Container, at: number): void {
  const task = c.tasks[at];
  if (task === undefined) return;
  c.tasks.splice(at, 1);
  for (const h of c.taskObjects.get(task) ?? []) host.design.free(h, c.cpu);
  c.taskObjects.delete(task);
  host.kernel.exit(task);
  host.design.exit(task);
}

/** Frees `n` random objects of a list (swap-remove keeps it dense). */
function freeRandom(host: Host, list: number[], n: number, cpu: number): void {
  for (let k = 0; k < n && list.length > 0; k++) {
    const i = host.prng.int(list.length);
    const h = list[i] ?? -1;
    list[i] = list[list.length - 1] ?? -1;
    list.pop();
    host.design.free(h, cpu);
  }
}

/** A fractional count drawn so that its mean is `x` (0.3 gives 1 three times in ten). */
function draw(prng: Prng, x: number): number {
  const whole = Math.floor(x);
  return whole + (prng.next() < x - whole ? 1 : 0);
}

function startContainer(host: Host, parent: number, profile: ContainerProfile, i: number, size: number): Container {
  const cg = host.design.createCgroup(parent, `${profile.id}${String(i)}`);
  const c: Container = { cg, cpu: i % host.design.config.cpus, profile, tasks: [], taskObjects: new Map(), held: new Map(), packets: [] };
  const tasks = Math.max(1, Math.round(profile.tasks * size));
  for (let t = 0; t < tasks; t++) forkTask(host, c);
  const first = c.tasks[0] ?? 0;
  for (let k = 0; k < Math.round(profile.lookups * size); k++) if (!host.kernel.lookup(first, c.cpu, 8 + host.prng.int(40))) host.failed++;
  for (const use of profile.caches) {
    const list: number[] = [];
    const cache = cacheIndex(host, use.cache);
    for (let k = 0; k < Math.round(use.objects * size); k++) allocInto(host, list, cache, first, c.cpu);
    c.held.set(use.cache, list);
  }
  return c;
}

/** Ten minutes of a container's life: processes replaced, objects turned over, files looked up, packets received. */
function stepContainer(host: Host, c: Container, size: number): void {
  const { prng, design, kernel } = host;
  for (let k = draw(prng, c.tasks.length * c.profile.taskTurnover); k > 0; k--) {
    exitTask(host, c, prng.int(c.tasks.length));
    forkTask(host, c);
  }
  const first = c.tasks[0] ?? 0;
  for (const use of c.profile.caches) {
    const list = c.held.get(use.cache) ?? [];
    const n = draw(prng, list.length * use.turnover);
    freeRandom(host, list, n, c.cpu);
    const cache = cacheIndex(host, use.cache);
    for (let k = 0; k < n; k++) allocInto(host, list, cache, first, c.cpu);
  }
  for (let k = Math.round(c.profile.lookupsPerStep * size); k > 0; k--) if (!kernel.lookup(first, c.cpu, 8 + prng.int(40))) host.failed++;
  for (const [head, data] of c.packets) {
    design.free(data, c.cpu);
    design.free(head, c.cpu);
  }
  c.packets = [];
  for (let k = Math.round(c.profile.packets * size); k > 0; k--) {
    const skb = kernel.skbAlloc(first, c.cpu, 64 + prng.int(1437), true);
    if (skb === null) host.failed++;
    else c.packets.push(skb);
  }
  design.runWork();
}

/**
 * A container host: `2 x scale` containers (at least one) of each profile — web server,
 * database, DNS resolver, build job — under /web, /database, /dns and /build, started, then
 * run for 72 steps of 10 minutes (12 hours; fewer below scale 1). The watched cgroups are the
 * four profile parents: charged is what their containers were charged, used what they hold.
 * extra: containers, steps, plus `<profile>.charged` / `<profile>.used` in bytes.
 */
export function hostWorkload(id: DesignId, options: WorkloadOptions = {}): WorkloadResult {
  const { prng, scale } = sized(options);
  const design = createDesign(id, { pages: pagesFor(2048 * MIB), cpus: 4 }, options.design);
  const host: Host = { design, kernel: new Kernel(design, { namedCaches: HOST_CACHES }), prng, nextTask: 1000, failed: 0 };
  const size = Math.min(1, scale);
  const perProfile = Math.max(1, Math.round(2 * Math.max(1, scale)));
  const parents = PROFILES.map((p) => design.createCgroup(ROOT_CGROUP, p.id));
  const containers: Container[] = [];
  PROFILES.forEach((profile, p) => {
    for (let i = 0; i < perProfile; i++) containers.push(startContainer(host, parents[p] ?? ROOT_CGROUP, profile, containers.length, size));
  });
  const steps = Math.max(2, Math.round(72 * size));
  for (let s = 0; s < steps; s++) for (const c of containers) stepContainer(host, c, size);
  const used = design.usedBytes();
  const extra: Record<string, number> = { containers: containers.length, steps };
  const watched = PROFILES.map((profile, p) => {
    const parent = parents[p] ?? ROOT_CGROUP;
    let bytes = 0;
    for (const c of containers) if (c.profile === profile) bytes += used.get(c.cg) ?? 0;
    extra[`${profile.id}.used`] = bytes;
    extra[`${profile.id}.charged`] = design.tree.kernelCharged(design.tree.node(parent));
    return { id: parent, failedAllocs: 0, evicted: 0, used: bytes };
  });
  extra.failed = host.failed;
  return collect(design, 'host', watched, extra);
}
