// The simulation's thread: the page posts requests, this answers each with plain data.
import { computeMemcg } from '../memcg/compute.js';
import { CounterexampleSession } from '../nmi/counterexample.js';
import { NmiSession } from '../nmi/session.js';
import type { ShownRun } from '../nmi/shown-run.js';
import { summarize } from '../nmi/summary.js';
import { machineView } from '../nmi/view.js';
import { computeCurve, computePatch } from '../patch/compute.js';
import { computeStats } from '../stats/compute.js';
import type { ReplyMessage, RequestMessage, Requests } from './protocol.js';

let session: ShownRun | undefined;

function handle(msg: RequestMessage): Requests[keyof Requests]['reply'] {
  switch (msg.kind) {
    case 'nmi-load': {
      const run = new NmiSession((msg as RequestMessage<'nmi-load'>).args);
      session = run;
      return { summary: summarize(run) };
    }
    case 'nmi-counterexample': {
      const { name, text } = (msg as RequestMessage<'nmi-counterexample'>).args;
      // A file that fails leaves the run shown before in place.
      const run = new CounterexampleSession(name, text);
      session = run;
      return { summary: run.summary() };
    }
    case 'nmi-seek': {
      if (!session) throw new Error('no run loaded');
      session.seek((msg as RequestMessage<'nmi-seek'>).args.step);
      return machineView(session);
    }
    case 'patch':
      return computePatch((msg as RequestMessage<'patch'>).args);
    case 'patch-curve':
      return computeCurve((msg as RequestMessage<'patch-curve'>).args.maxCpus);
    case 'memcg':
      return computeMemcg((msg as RequestMessage<'memcg'>).args);
    case 'stats': {
      const { name, text } = (msg as RequestMessage<'stats'>).args;
      return computeStats(name, text);
    }
  }
}

self.addEventListener('message', (event: MessageEvent<RequestMessage>) => {
  const msg = event.data;
  let reply: ReplyMessage;
  try {
    reply = { id: msg.id, ok: true, value: handle(msg) };
  } catch (e) {
    // One line: the page shows it as it is.
    reply = { id: msg.id, ok: false, error: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '' };
  }
  self.postMessage(reply);
});
self.postMessage({ id: 0, ok: true, value: 'ready' } satisfies ReplyMessage);
