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
const ICED_ID = '\0kernsim-iced-x86';

function icedForTheBrowser(): Plugin {
  return {
    name: 'kernsim-iced-x86-browser',
    enforce: 'pre',
    resolveId(id) {
      return id === 'iced-x86' ? ICED_ID : undefined;
    },
    load(id) {
      if (id !== ICED_ID) return undefined;
      const names = Object.keys(fromCpuCore(icedMain) as object).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
      const source = readFileSync(icedMain, 'utf8');
      return [
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
        source,
        '})(module, module.exports);',
        `export const { ${names.join(', ')} } = module.exports;`,
      ].join('\n');
    },
  };
}

// dev-stats' index also exports its Node adapters (git, files), which import node:fs,
// node:fs/promises, node:path and node:child_process. The lab uses only the pure core, and the
// production bundle tree-shakes the adapters away; but the dev server loads every module the
// index names, and Vite's stand-in for a Node module throws as soon as a named import is read.
// So in the browser each node:* module becomes one whose functions throw only when called.
const STUB_PREFIX = '\0kernsim-node-stub:';

function nodeModulesStubbed(): Plugin {
  return {
    name: 'kernsim-node-stubs',
    enforce: 'pre',
    resolveId(id) {
      const bare = id.startsWith('node:') ? id.slice(5) : id;
      return builtinModules.includes(bare) ? STUB_PREFIX + bare : undefined;
    },
    async load(id) {
      if (!id.startsWith(STUB_PREFIX)) return undefined;
      const name = id.slice(STUB_PREFIX.length);
      const real = (await import(`node:${name}`)) as Record<string, unknown>;
      const names = Object.keys(real).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
      return [
        `const fail = (what) => () => { throw new Error(\`node:${name} \${what} is not available in the browser\`); };`,
        ...names.map((n) => `export const ${n} = fail(${JSON.stringify(n)});`),
        'export default {};',
      ].join('\n');
    },
  };
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
