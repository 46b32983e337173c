// Scaffolds a library package with the repository's conventions (used once per package).
// Usage: node scripts/new-package.mjs <dir-name> "<description>"
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, description] = process.argv.slice(2);
if (!dir || !description) {
  console.error('usage: node scripts/new-package.mjs <dir-name> "<description>"');
  process.exit(2);
}
const root = join(import.meta.dirname, '..', 'packages', dir);
if (existsSync(root)) {
  console.error(`packages/${dir} exists already`);
  process.exit(1);
}
mkdirSync(join(root, 'src'), { recursive: true });
mkdirSync(join(root, 'bench'), { recursive: true });
const entry = (types, js) => ({ types, default: js });
const pkg = {
  name: `@kernsim/${dir}`,
  version: '0.0.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  exports: {
    '.': { '@kernsim/source': './src/index.ts', ...entry('./dist/index.d.ts', './dist/index.js') },
    './internal/*': null,
    './package.json': './package.json',
  },
  publishConfig: {
    exports: {
      '.': entry('./dist/index.d.ts', './dist/index.js'),
      './internal/*': null,
      './package.json': './package.json',
    },
  },
  files: ['dist', '!dist/**/*.test.*', '!dist/**/*.tsbuildinfo'],
  scripts: {
    // A clean dist/ each time: files of modules since removed or renamed never ship.
    build: "node -e \"require('node:fs').rmSync('dist',{recursive:true,force:true})\" && tsc -p tsconfig.build.json",
    prepack: `turbo run build --filter=@kernsim/${dir} --output-logs=errors-only`,
    typecheck: 'tsc -p tsconfig.json',
    lint: 'eslint .',
    test: 'vitest run',
    bench: 'tsx --conditions=@kernsim/source bench/index.ts',
  },
  devDependencies: {
    '@kernsim/eslint-config': 'workspace:*',
    '@kernsim/tsconfig': 'workspace:*',
    '@kernsim/vitest-config': 'workspace:*',
    '@types/node': '20.19.9',
    eslint: '10.15.0',
    typescript: '6.0.3',
    vitest: '4.1.12',
    'fast-check': '4.10.2',
    tsx: '4.23.15',
  },
};
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;
writeFileSync(join(root, 'package.json'), json(pkg));
writeFileSync(
  join(root, 'tsconfig.json'),
  json({ extends: '@kernsim/tsconfig/base.json', include: ['src', 'bench', '*.ts'] }),
);
writeFileSync(
  join(root, 'tsconfig.build.json'),
  json({
    extends: '@kernsim/tsconfig/build.json',
    compilerOptions: { rootDir: 'src', outDir: 'dist' },
    include: ['src'],
    exclude: ['src/**/*.test.ts', 'src/**/*.test-support.ts', 'src/**/test-support.ts', 'src/testing/**'],
  }),
);
writeFileSync(
  join(root, 'eslint.config.js'),
  "import { kernsimConfig } from '@kernsim/eslint-config';\n\nexport default kernsimConfig(import.meta.dirname);\n",
);
writeFileSync(
  join(root, 'vitest.config.ts'),
  "import { kernsimVitestConfig } from '@kernsim/vitest-config';\n\nexport default kernsimVitestConfig();\n",
);
const errorClass = `${dir.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}Error`;
const codePrefix = `KERNSIM_${dir.toUpperCase().replace(/-/g, '_')}`;
writeFileSync(
  join(root, 'src', 'errors.ts'),
  `/** Stable codes for every error this package throws; tests check the code, not the wording. */
export type ${errorClass}Code = '${codePrefix}_BAD_ARGUMENT';

export class ${errorClass} extends Error {
  override readonly name = '${errorClass}';
  readonly code: ${errorClass}Code;

  constructor(code: ${errorClass}Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
`,
);
writeFileSync(join(root, 'src', 'index.ts'), `export { ${errorClass} } from './errors.js';\nexport type { ${errorClass}Code } from './errors.js';\n`);
writeFileSync(
  join(root, 'bench', 'index.ts'),
  "// `pnpm bench " + dir + "`: prints each figure as `name: value unit` (see scripts/bench.mjs).\n",
);
writeFileSync(
  join(root, 'README.md'),
  `# @kernsim/${dir}\n\n${description}\n\n## Example\n\n## API\n\n## Limits\n`,
);
console.log(`created packages/${dir}`);
