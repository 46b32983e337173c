import { fileURLToPath } from 'node:url';

// What a pool's worker thread loads when the pool runs from the TypeScript sources. A worker
// takes no module hooks from the process (`--import tsx` is per thread), and through tsx's
// hooks it loads hundreds of modules one by one: measured 1.2–1.4 s at load 3 before a worker
// could search (tsx's hooks 0.3 s, the engine 0.3 s, the kernel and the model 0.5 s), while the
// `nmi-perf` window search takes 3–4 s on one core. Bundled by esbuild (in esbuild's process
// and the worker, while this thread searches) the worker was ready after 0.8 s. Without esbuild
// (a consumer of the sources without the dev dependency) the worker registers tsx's hooks.

const CONDITION = '@kernsim/source';

/**
 * The tinypool `filename` of a worker that runs tasks on models from `model` (a file URL or
 * package specifier), from the sources: a first module that bundles the worker and the model
 * with esbuild and loads the bundle. It bundles in the worker, not here: esbuild calls back
 * into JavaScript for every package it resolves, and this thread is searching meanwhile.
 */
export function sourceWorker(worker: string, model: string): string {
  let esbuild: string;
  try {
    esbuild = import.meta.resolve('esbuild');
  } catch {
    return viaTsx(worker);
  }
  const path = (u: string): string => JSON.stringify(u.startsWith('file:') ? fileURLToPath(u) : u);
  // The bundle: the worker's exports, and the model module handed to it (a bundled worker cannot `import` a .ts file).
  const contents = [`export { runWorkerTask, warmWorker } from ${path(worker)};`, `import { provideModule } from ${path(worker)};`, `import * as model from ${path(model)};`, `provideModule(${JSON.stringify(model)}, model);`].join('\n');
  const options = {
    stdin: { contents, resolveDir: fileURLToPath(new URL('.', worker)), loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: [CONDITION],
    write: false,
    logLevel: 'silent',
  };
  // The workspace's packages are bundled from their sources; other packages are imported where they are installed.
  const code = `
const esbuild = await import(${JSON.stringify(esbuild)});
const { pathToFileURL } = await import('node:url');
const installed = (b) => b.onResolve({ filter: /^[^./]/ }, async (a) => {
  if (a.path.startsWith('@kernsim/') || a.path.startsWith('node:') || a.pluginData === 'installed') return undefined;
  const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: 'installed' });
  return r.errors.length > 0 || r.external ? undefined : { path: pathToFileURL(r.path).href, external: true };
});
let out;
try {
  out = await esbuild.build({ ...${JSON.stringify(options)}, plugins: [{ name: 'installed-packages', setup: installed }] });
} finally {
  await esbuild.stop();
}
const w = await import('data:text/javascript,' + encodeURIComponent(out.outputFiles[0].text));
export const runWorkerTask = w.runWorkerTask;
export const warmWorker = w.warmWorker;`;
  return dataUrl(code);
}

function dataUrl(code: string): string {
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

/** A first module that registers tsx's hooks in the worker, then loads the worker. */
function viaTsx(worker: string): string {
  const code = [
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    'register();',
    `const w = await import(${JSON.stringify(worker)});`,
    'export const runWorkerTask = w.runWorkerTask;',
    'export const warmWorker = w.warmWorker;',
  ].join('\n');
  return dataUrl(code);
}

/** The `execArgv` of a worker from the sources: the process's, with the sources' export condition. */
export function sourceExecArgv(): string[] {
  const flag = `--conditions=${CONDITION}`;
  return process.execArgv.includes(flag) ? process.execArgv : [...process.execArgv, flag];
}
