import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// What a pool's worker thread loads when the pool runs from the TypeScript sources. A worker
// takes no module hooks from the process (`--import tsx` is per thread), and through tsx's
// hooks it loads hundreds of modules one by one: measured 1.2–1.4 s at load 3 before a worker
// could search (tsx's hooks 0.3 s, the engine 0.3 s, the kernel and the model 0.5 s), while the
// `nmi-perf` window search takes 3–4 s on one core. Bundled by esbuild (in esbuild's process
// and the worker, while this thread searches) the worker was ready after 0.8 s. Without esbuild
// (a consumer of the sources without the dev dependency) the worker registers tsx's hooks. The
// bundle is kept in node_modules/.cache with its inputs' mtimes and sizes, so a later pool's
// worker loads it without building (0.3–0.4 s less at load 5) until a source changes.

const CONDITION = '@kernsim/source';
const CACHE = new URL('../../node_modules/.cache/kernsim-explore/', import.meta.url);

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
  const contents = [`export { forgetModel, runWorkerTask, warmWorker } from ${path(worker)};`, `import { provideModule } from ${path(worker)};`, `import * as model from ${path(model)};`, `provideModule(${JSON.stringify(model)}, model);`].join('\n');
  const options = {
    stdin: { contents, resolveDir: fileURLToPath(new URL('.', worker)), loader: 'ts' },
    absWorkingDir: process.cwd(),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: [CONDITION],
    write: false,
    metafile: true,
    logLevel: 'silent',
  };
  // Kept between runs, with each input's mtime and size: a worker that finds them unchanged loads it without building.
  const name = createHash('sha256').update(esbuild).update(JSON.stringify(options)).digest('hex').slice(0, 24);
  const bundle = fileURLToPath(new URL(`${name}.mjs`, CACHE));
  // The workspace's packages are bundled from their sources; other packages are imported where they are installed.
  const code = `
const fs = await import('node:fs');
const { dirname, resolve } = await import('node:path');
const { pathToFileURL } = await import('node:url');
const bundle = ${JSON.stringify(bundle)};
const meta = bundle.replace(/mjs$/, 'json');
const fresh = () => {
  try {
    return JSON.parse(fs.readFileSync(meta, 'utf8')).every(([p, t, n]) => { const s = fs.statSync(p); return s.mtimeMs === t && s.size === n; });
  } catch {
    return false;
  }
};
let url = pathToFileURL(bundle).href;
if (!fresh()) {
  const esbuild = await import(${JSON.stringify(esbuild)});
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
  const text = out.outputFiles[0].text;
  url = 'data:text/javascript,' + encodeURIComponent(text);
  try {
    const inputs = Object.keys(out.metafile.inputs).filter((p) => p !== '<stdin>').map((p) => {
      const f = resolve(${JSON.stringify(options.absWorkingDir)}, p);
      const st = fs.statSync(f);
      return [f, st.mtimeMs, st.size];
    });
    const tmp = '.' + process.pid + '.' + Math.random().toString(36).slice(2);
    fs.mkdirSync(dirname(bundle), { recursive: true });
    fs.writeFileSync(bundle + tmp, text);
    fs.renameSync(bundle + tmp, bundle);
    fs.writeFileSync(meta + tmp, JSON.stringify(inputs));
    fs.renameSync(meta + tmp, meta);
  } catch {
    // No cache (a read-only tree): the next worker builds again.
  }
}
const w = await import(url);
export const runWorkerTask = w.runWorkerTask;
export const warmWorker = w.warmWorker;
export const forgetModel = w.forgetModel;`;
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
    'export const forgetModel = w.forgetModel;',
  ].join('\n');
  return dataUrl(code);
}

/** The `execArgv` of a worker from the sources: the process's, with the sources' export condition. */
export function sourceExecArgv(): string[] {
  const flag = `--conditions=${CONDITION}`;
  return process.execArgv.includes(flag) ? process.execArgv : [...process.execArgv, flag];
}
