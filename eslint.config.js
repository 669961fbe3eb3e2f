// Lint rules, and the one-way layering of docs/architecture.md enforced as
// errors (eslint-rules/layering.js holds the table of which layer may import
// which; the faces reach the engine only through src/engine/index.ts).
import tseslint from 'typescript-eslint';
import layering from './eslint-rules/layering.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', 'native/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli/main.ts ends the process; throw a BerthError instead.' }],
    },
  },
  { files: ['src/cli/main.ts', 'bench/**/*.ts', 'test/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['src/**/*.ts'], plugins: { berth: layering }, rules: { 'berth/layering': 'error' } },
);
