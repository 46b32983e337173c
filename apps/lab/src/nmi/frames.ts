import type { TraceEvent } from '@kernsim/cpu-core';
import type { LiveFrame } from './shown-run.js';

/** A frame pushed by a delivery or popped by an iret, at the step that did it. */
export interface FrameEvent {
  readonly step: number;
  readonly cpu: number;
  readonly push: boolean;
  readonly frame: LiveFrame;
}

const IP_FIELDS = new Set(['RIP', 'EIP']);

/** The frame a delivery pushed or an iret popped, or undefined for other events. */
export function frameEventOf(e: TraceEvent, step: number): FrameEvent | undefined {
  if (e.kind !== 'delivery' && e.kind !== 'iret') return undefined;
  const ip = e.words.find((w) => IP_FIELDS.has(w.field.toUpperCase()));
  if (ip === undefined) return undefined;
  const fromUser = e.words.some((w) => w.field.toUpperCase() === 'SS');
  return { step, cpu: e.cpu, push: e.kind === 'delivery', frame: { name: e.kind === 'delivery' ? e.name : 'iret', ip: ip.address, fromUser } };
}

/**
 * The frames live on `cpu` once the machine is past step `step - 1`: every delivery pushes one;
 * an iret pops the frame it returns through and every frame delivered after it (or, when it
 * returns through no recorded frame, the innermost one).
 */
export function liveFramesAt(events: readonly FrameEvent[], cpu: number, step: number): LiveFrame[] {
  const live: LiveFrame[] = [];
  for (const e of events) {
    if (e.step >= step) break;
    if (e.cpu !== cpu) continue;
    if (e.push) {
      live.push(e.frame);
      continue;
    }
    const i = live.findLastIndex((f) => f.ip === e.frame.ip);
    live.length = i >= 0 ? i : Math.max(0, live.length - 1);
  }
  return live;
}
