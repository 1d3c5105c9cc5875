import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'src/generated/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // No consistent-type-imports: with emitDecoratorMetadata a type-only import of an injected
      // class erases its DI token.
      'no-console': 'error',
    },
  },
  {
    files: ['prisma/engine/**', 'bench/**', 'scripts/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  // Promises are awaited, returned or deliberately let go (`void`, with a comment why).
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  // Module boundaries (docs/architecture.md): a file under src/<a>/ imports src/<b>/ (b ≠ a) only
  // through its public surface, src/<b>/index.ts; files of one module import each other directly.
  // src/module-boundaries.spec.ts checks the same on the import graph, and that it has no cycle.
  ...boundaries(),
);

/** One `no-restricted-imports` block per folder depth under src/ (the specifier's `../` count). */
function boundaries() {
  const message = "Import another module only through its index.ts (e.g. '../delivery/index.js').";
  // Depth 0 (src/*.ts): './<b>/…'; depth d: d times '../' then '<b>/…'; anything but '<b>/index.js'
  // (or what `allow` lets through).
  const pattern = (d, allow = '') => {
    const up = d === 0 ? '\\./' : '\\.\\./'.repeat(d);
    return { regex: `^${up}(?!${allow}[^/]+/index\\.js$)[^./][^/]*/`, message };
  };
  const block = (files, d, allow) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { patterns: [pattern(d, allow)] }] },
  });
  return [
    block(['src/*.ts'], 0),
    block(['src/*/*.ts'], 1),
    block(['src/*/*/*.ts'], 2),
    block(['src/*/*/*/*.ts'], 3),
    // prisma/ owns the generated client (src/generated/).
    block(['src/prisma/*.ts'], 1, 'generated/|'),
    // The benchmark's bare server loads dist/otp/otp.statements.js alone: it imports the queue's
    // constants-only contract, not delivery/index.ts (which loads Nest and the worker).
    block(['src/otp/otp.statements.ts'], 1, 'delivery/queue/index\\.js$|'),
  ];
}
