import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, defaultClientConditions } from 'vite';
import type { Plugin } from 'vite';

// iced-x86 on npm is wasm-bindgen's Node.js build: it `require`s util, path and fs and reads
// its .wasm with readFileSync. The packages import it as it is; for the browser the lab
// serves the same code as an ES module whose `require` hands it TextDecoder/TextEncoder and
// the .wasm bytes, fetched once with top-level await (fine in the module worker that runs
// the simulation). The packages are not edited.
const fromCpuCore = createRequire(createRequire(import.meta.url).resolve('@kernsim/cpu-core/package.json'));
const icedMain = fromCpuCore.resolve('iced-x86');
const icedWasm = join(dirname(icedMain), 'iced_x86_bg.wasm');
/**
 * A plugin that answers some imports with generated modules: `resolve` maps an import to a key
 * (or leaves it alone), `source` writes the module for a key.
 */
function generatedModules(name: string, resolve: (id: string) => string | undefined, source: (key: string) => string | Promise<string>): Plugin {
  const prefix = `\0kernsim-${name}:`;
  return {
    name: `kernsim-${name}`,
    enforce: 'pre',
    resolveId(id) {
      const key = resolve(id);
      return key === undefined ? undefined : prefix + key;
    },
    load(id) {
      return id.startsWith(prefix) ? source(id.slice(prefix.length)) : undefined;
    },
  };
}

/** The names a CommonJS or Node module exports that can be ES export names. */
function exportNames(module: object): string[] {
  return Object.keys(module).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
}

function icedForTheBrowser(): Plugin {
  return generatedModules(
    'iced-x86',
    (id) => (id === 'iced-x86' ? 'main' : undefined),
    () =>
      [
        `import wasmUrl from ${JSON.stringify(`${icedWasm}?url`)};`,
        'const wasmBytes = new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer());',
        'const module = { exports: {} };',
        "const __dirname = '';",
        'const require = (name) => {',
        "  if (name === 'util') return { TextDecoder, TextEncoder };",
        "  if (name === 'path') return { join: () => 'iced_x86_bg.wasm' };",
        "  if (name === 'fs') return { readFileSync: () => wasmBytes };",
        '  throw new Error(`iced-x86 wants ${name}`);',
        '};',
        '(function (module, exports) {',
        readFileSync(icedMain, 'utf8'),
        '})(module, module.exports);',
        `export const { ${exportNames(fromCpuCore(icedMain) as object).join(', ')} } = module.exports;`,
      ].join('\n'),
  );
}

// dev-stats' index also exports its Node adapters (git, files), which import node:fs,
// node:fs/promises, node:path and node:child_process. The lab uses only the pure core, and the
// production bundle tree-shakes the adapters away; but the dev server loads every module the
// index names, and Vite's stand-in for a Node module throws as soon as a named import is read.
// So in the browser each node:* module becomes one whose functions throw only when called.
function nodeModulesStubbed(): Plugin {
  return generatedModules(
    'node-stub',
    (id) => {
      const bare = id.startsWith('node:') ? id.slice(5) : id;
      return builtinModules.includes(bare) ? bare : undefined;
    },
    async (name) =>
      [
        `const fail = (what) => () => { throw new Error(\`node:${name} \${what} is not available in the browser\`); };`,
        ...exportNames((await import(`node:${name}`)) as object).map((n) => `export const ${n} = fail(${JSON.stringify(n)});`),
        'export default {};',
      ].join('\n'),
  );
}

export default defineConfig({
  base: './',
  plugins: [icedForTheBrowser(), nodeModulesStubbed()],
  resolve: { conditions: ['@kernsim/source', ...defaultClientConditions] },
  worker: { format: 'es', plugins: () => [icedForTheBrowser(), nodeModulesStubbed()] },
  optimizeDeps: { exclude: ['iced-x86'] },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
