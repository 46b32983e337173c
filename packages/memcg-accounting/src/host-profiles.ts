// What the containers of a real host hold in kernel memory: the slab caches they use, object
// sizes, and how many objects one container keeps and replaces. Sizes are measured figures
// where a source gives them; counts are estimates derived from each program's documented
// defaults — the README's "Workloads modelled on container hosts" says which is which.
import type { CacheSpec } from './kmem-cache.js';

/** Where a figure comes from. */
export type Basis = 'measured' | 'documented' | 'estimate';

export interface HostCache extends CacheSpec {
  /** The size's basis: 'measured' = a published slabtop listing (x86_64), 'estimate' = typical slabinfo objsize. */
  readonly sizeBasis: Basis;
}

/**
 * The task, file and socket caches of the host workloads (dentry, inode_cache, kmalloc-* and
 * skbuff_head_cache come from `Kernel`). `account` is whether today's kernel charges them
 * (SLAB_ACCOUNT on the cache, or __GFP_ACCOUNT at the call site).
 */
export const HOST_CACHES: readonly HostCache[] = [
  { name: 'buffer_head', objSize: 104, account: true, sizeBasis: 'measured' },
  { name: 'radix_tree_node', objSize: 576, account: true, sizeBasis: 'measured' },
  { name: 'vm_area_struct', objSize: 200, account: true, sizeBasis: 'measured' },
  { name: 'filp', objSize: 256, account: true, sizeBasis: 'estimate' },
  { name: 'sock_inode_cache', objSize: 640, account: true, sizeBasis: 'estimate' },
  { name: 'TCP', objSize: 1984, account: true, sizeBasis: 'estimate' },
  { name: 'UDP', objSize: 1088, account: true, sizeBasis: 'estimate' },
  { name: 'eventpoll_epi', objSize: 128, account: true, sizeBasis: 'estimate' },
  { name: 'anon_vma', objSize: 80, account: true, sizeBasis: 'estimate' },
  { name: 'mm_struct', objSize: 960, account: true, sizeBasis: 'estimate' },
  { name: 'task_struct', objSize: 5888, account: true, sizeBasis: 'estimate' },
  { name: 'files_cache', objSize: 704, account: true, sizeBasis: 'estimate' },
  { name: 'signal_cache', objSize: 1088, account: true, sizeBasis: 'estimate' },
  { name: 'cred_jar', objSize: 192, account: true, sizeBasis: 'estimate' },
];

export type ProfileId = 'web' | 'database' | 'dns' | 'build';

/** Objects of one cache a container holds, and the fraction of them replaced every step. */
export interface CacheUse {
  readonly cache: string;
  readonly objects: number;
  readonly turnover: number;
}

export interface ContainerProfile {
  readonly id: ProfileId;
  readonly label: string;
  /** Processes (each a kernel stack, task_struct, mm_struct, files and signal structures). */
  readonly tasks: number;
  /** Fraction of processes that exit and are forked again every step (short-lived compilers). */
  readonly taskTurnover: number;
  /** Path lookups at start (files the container opens) and new ones every step. */
  readonly lookups: number;
  readonly lookupsPerStep: number;
  /** Socket buffers in flight (received in softirq, charged to nobody), all replaced every step. */
  readonly packets: number;
  readonly caches: readonly CacheUse[];
  /** Where the counts come from. */
  readonly basis: string;
}

/** Per-process objects beyond the stack: one of each, plus `vmas` VMAs and half as many anon_vmas. */
export const PER_TASK_CACHES: readonly string[] = ['task_struct', 'mm_struct', 'files_cache', 'signal_cache', 'cred_jar'];

export const PROFILES: readonly ContainerProfile[] = [
  {
    id: 'web',
    label: 'web server (nginx-like)',
    tasks: 5,
    taskTurnover: 0,
    lookups: 3000,
    lookupsPerStep: 20,
    packets: 400,
    caches: [
      { cache: 'TCP', objects: 1000, turnover: 0.2 },
      { cache: 'sock_inode_cache', objects: 1000, turnover: 0.2 },
      { cache: 'filp', objects: 1200, turnover: 0.2 },
      { cache: 'eventpoll_epi', objects: 1000, turnover: 0.2 },
      { cache: 'vm_area_struct', objects: 300, turnover: 0.01 },
      { cache: 'anon_vma', objects: 150, turnover: 0.01 },
    ],
    basis:
      'nginx: 1 master + 4 workers (worker_processes auto = one per CPU); 1000 open keep-alive connections of the 4 x 512 the documented default worker_connections allows (estimate), each a TCP sock, socket inode, file and epoll item; 3000 static files looked up (estimate); 20% of connections replaced per step (estimate)',
  },
  {
    id: 'database',
    label: 'database (PostgreSQL-like)',
    tasks: 106,
    taskTurnover: 0.01,
    lookups: 2000,
    lookupsPerStep: 2,
    packets: 50,
    caches: [
      { cache: 'vm_area_struct', objects: 106 * 60, turnover: 0.02 },
      { cache: 'anon_vma', objects: 106 * 30, turnover: 0.02 },
      { cache: 'filp', objects: 106 * 30, turnover: 0.05 },
      { cache: 'radix_tree_node', objects: 4000, turnover: 0.02 },
      { cache: 'buffer_head', objects: 10000, turnover: 0.02 },
      { cache: 'TCP', objects: 100, turnover: 0.01 },
      { cache: 'sock_inode_cache', objects: 100, turnover: 0.01 },
    ],
    basis:
      'PostgreSQL: the documented default max_connections = 100, one backend process each, plus 6 auxiliary processes; 2000 relation files (estimate); page cache of about 1 GiB of data files = 4000 radix-tree nodes at 64 pages a node, 10000 buffer heads (estimates); 60 VMAs and 30 open files a process (estimates)',
  },
  {
    id: 'dns',
    label: 'DNS resolver (Unbound-like)',
    tasks: 2,
    taskTurnover: 0,
    lookups: 50,
    lookupsPerStep: 0,
    packets: 800,
    caches: [
      { cache: 'UDP', objects: 1000, turnover: 0.5 },
      { cache: 'sock_inode_cache', objects: 1000, turnover: 0.5 },
      { cache: 'filp', objects: 1000, turnover: 0.5 },
      { cache: 'vm_area_struct', objects: 120, turnover: 0.01 },
      { cache: 'anon_vma', objects: 60, turnover: 0.01 },
    ],
    basis:
      'Unbound: each outgoing query on its own UDP socket from a pool (outgoing-range, documented default 4096 with libevent); 1000 sockets open at a time and half replaced per step, 800 packets in flight (estimates); a few configuration and zone files',
  },
  {
    id: 'build',
    label: 'build job (make -j8 of a kernel)',
    tasks: 8,
    taskTurnover: 1,
    lookups: 20000,
    lookupsPerStep: 500,
    packets: 0,
    caches: [
      { cache: 'vm_area_struct', objects: 8 * 40, turnover: 1 },
      { cache: 'anon_vma', objects: 8 * 20, turnover: 1 },
      { cache: 'filp', objects: 8 * 20, turnover: 1 },
      { cache: 'radix_tree_node', objects: 3000, turnover: 0.1 },
      { cache: 'buffer_head', objects: 5000, turnover: 0.1 },
    ],
    basis:
      'a kernel build with 8 compilers at a time, every one replaced each step; 20000 of the tree\'s roughly 38000 files (Linux 3.3) looked up, 500 new objects a step (estimates); page cache of sources and objects as radix-tree nodes and buffer heads (estimates)',
  },
];
