// The simulation's thread: the page posts requests, this answers each with plain data.
import { computeMemcg } from '../memcg/compute.js';
import { NmiSession } from '../nmi/session.js';
import { summarize } from '../nmi/summary.js';
import { machineView } from '../nmi/view.js';
import { computePatch } from '../patch/compute.js';
import { computeStats } from '../stats/compute.js';
import type { ReplyMessage, RequestMessage, Requests } from './protocol.js';

let session: NmiSession | undefined;

function handle(msg: RequestMessage): Requests[keyof Requests]['reply'] {
  switch (msg.kind) {
    case 'nmi-load': {
      session = new NmiSession((msg as RequestMessage<'nmi-load'>).args);
      return { summary: summarize(session) };
    }
    case 'nmi-seek': {
      if (!session) throw new Error('no run loaded');
      session.seek((msg as RequestMessage<'nmi-seek'>).args.step);
      return machineView(session);
    }
    case 'patch':
      return computePatch((msg as RequestMessage<'patch'>).args);
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
    reply = { id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  self.postMessage(reply);
});
self.postMessage({ id: 0, ok: true, value: 'ready' } satisfies ReplyMessage);
