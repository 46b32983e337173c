// One lint setup for the whole repository. Each package's eslint.config.js calls
// `kernsimConfig(import.meta.dirname)` so type-aware rules use that package's tsconfig;
// the root eslint.config.js lints the repository scripts and tooling with `scriptConfig()`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Plain JavaScript here runs on Node: scripts, configs, bins. Listed rather than taken
// from a globals package so the config has no dependency the workspace does not pin.
const nodeGlobals = Object.fromEntries(
  ['console', 'process', 'URL', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'structuredClone'].map(
    (name) => [name, 'readonly'],
  ),
);

/** Rules for plain `.js`/`.mjs` files: the recommended set, no type information. */
function javascriptFiles() {
  return [
    {
      files: ['**/*.js', '**/*.mjs'],
      ...js.configs.recommended,
      languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
    },
    { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  ];
}

/** The root's config: repository scripts and shared tooling, all plain JavaScript. */
export function scriptConfig() {
  return tseslint.config(
    { ignores: ['**/node_modules/**', '**/dist/**', 'packages/**', 'apps/**', '.turbo/**'] },
    ...javascriptFiles(),
  );
}

/** @param {string} tsconfigRootDir */
export function kernsimConfig(tsconfigRootDir) {
  return tseslint.config(
    { ignores: ['dist/**', 'coverage/**', 'node_modules/**'] },
    js.configs.recommended,
    ...tseslint.configs.strictTypeChecked,
    ...tseslint.configs.stylisticTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir },
      },
      rules: {
        '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
        '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
        '@typescript-eslint/consistent-type-imports': 'error',
        '@typescript-eslint/no-non-null-assertion': 'off',
        '@typescript-eslint/prefer-literal-enum-member': 'off',
      },
    },
    {
      // Tool configs (vitest.config.ts) must default-export; library code never does.
      files: ['src/**/*.ts'],
      rules: {
        'no-restricted-syntax': [
          'error',
          { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
          { selector: 'ExportAllDeclaration', message: 'List exports by name; `export *` makes internals public.' },
        ],
      },
    },
    {
      // Size rules (CONTRIBUTING.md): one concept per file, functions a reader can hold.
      // Blank lines and comments do not count; an IIFE counts as the function it is.
      files: ['**/*.ts'],
      rules: {
        'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
        'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
      },
    },
    {
      // A test file's describe/it callbacks are lists of cases, not functions to split.
      files: ['**/*.test.ts'],
      rules: { 'max-lines-per-function': 'off' },
    },
    {
      files: ['**/*.test.ts', 'bench/**/*.ts'],
      rules: {
        '@typescript-eslint/no-floating-promises': 'off',
        '@typescript-eslint/no-unsafe-assignment': 'off',
        '@typescript-eslint/no-unsafe-member-access': 'off',
      },
    },
    ...javascriptFiles(),
  );
}
