import { CpuError } from '../errors.js';
import type { AddressSpace, ExecCallback, ExecWatch, MachineCore } from './core.js';
import { lookupPage } from './address-space-ops.js';
import { F_WATCH, F_XWATCH } from './frame.js';
import { address, positiveLength } from './validate.js';

// Observers the machine's user sets on memory: write watches (reported as `write` trace events)
// and execution watches (a callback before an instruction that starts in the range). Each is
// split at page boundaries and flags its frames, so pages without one pay nothing.

/** Reports writes to [virt, virt+length) as `write` trace events labelled `label`. */
export function addWriteWatch(core: MachineCore, virt: bigint, length: number, label: string, space: AddressSpace): void {
  address(virt, 'watch address');
  positiveLength(length, 'watch length');
  for (let i = 0; i < length; ) {
    const r = lookupPage(core, virt + BigInt(i), space);
    if (!r) throw new CpuError('KERNSIM_CPU_UNMAPPED', `watch at 0x${(virt + BigInt(i)).toString(16)}: page not mapped`);
    const n = Math.min(length - i, 4096 - r.off);
    r.f.flags |= F_WATCH;
    core.watches.push({ phys: r.f.pfn * 4096 + r.off, len: n, label });
    i += n;
  }
}

/** Adds an execution watch over [virt, virt+length); returns the function that removes it. */
export function addExecWatch(core: MachineCore, virt: bigint, length: number, callback: ExecCallback, space: AddressSpace): () => void {
  address(virt, 'onExecute address');
  positiveLength(length, 'onExecute length');
  const added: ExecWatch[] = [];
  for (let i = 0; i < length; ) {
    const r = lookupPage(core, virt + BigInt(i), space);
    if (!r) throw new CpuError('KERNSIM_CPU_UNMAPPED', `execution watch at 0x${(virt + BigInt(i)).toString(16)}: page not mapped`);
    const n = Math.min(length - i, 4096 - r.off);
    const w: ExecWatch = { phys: r.f.pfn * 4096 + r.off, len: n, callback };
    core.execWatches.push(w);
    added.push(w);
    i += n;
  }
  flagExecWatches(core);
  return () => {
    for (const w of added) {
      const k = core.execWatches.indexOf(w);
      if (k >= 0) core.execWatches.splice(k, 1);
    }
    flagExecWatches(core);
  };
}

/** Marks exactly the frames that hold an execution watch (the fetch path tests the flag). */
export function flagExecWatches(core: MachineCore): void {
  for (const f of core.frames.values()) f.flags &= ~F_XWATCH;
  for (const w of core.execWatches) {
    const f = core.frames.get(Math.floor(w.phys / 4096));
    if (f) f.flags |= F_XWATCH;
  }
}
