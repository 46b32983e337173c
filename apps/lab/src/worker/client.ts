import type { ReplyMessage, RequestKind, Requests } from './protocol.js';

/** The page's side of the worker: one promise per request, answered in order. */
export class SimClient {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;
  #next = 1;

  constructor() {
    this.#worker = new Worker(new URL('./sim-worker.ts', import.meta.url), { type: 'module' });
    let started: () => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    this.#worker.addEventListener('message', (event: MessageEvent<ReplyMessage>) => {
      const r = event.data;
      if (r.id === 0) {
        started();
        return;
      }
      const w = this.#waiting.get(r.id);
      this.#waiting.delete(r.id);
      if (r.ok) w?.resolve(r.value);
      else w?.reject(new Error(r.error));
    });
    this.#worker.addEventListener('error', (event) => {
      const e = new Error(`simulation worker failed: ${event.message}`);
      failed(e);
      for (const w of this.#waiting.values()) w.reject(e);
      this.#waiting.clear();
    });
  }

  async request<K extends RequestKind>(kind: K, args: Requests[K]['args']): Promise<Requests[K]['reply']> {
    await this.ready;
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, kind, args });
    });
  }
}
