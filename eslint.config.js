// Lint rules, and the one-way layering of docs/architecture.md enforced as errors.
import tseslint from 'typescript-eslint';

// Which layer may import which. A layer may always import from itself and from
// util/. Everything not listed is forbidden: move shared code down a layer
// instead of importing upwards.
const LAYERS = {
  cli: ['engine', 'image', 'net', 'build', 'runtime', 'vm'],
  api: ['engine', 'image', 'net', 'build', 'runtime', 'vm'],
  engine: ['image', 'net', 'build', 'runtime', 'vm'],
  build: ['image', 'runtime'],
  image: [],
  net: ['runtime'],
  vm: ['runtime'],
  runtime: [],
  util: [],
};
const ALL = Object.keys(LAYERS);

const layerRules = ALL.map((layer) => {
  const forbidden = ALL.filter((other) => other !== layer && other !== 'util' && !LAYERS[layer].includes(other));
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: forbidden.map((other) => ({
          group: [`**/${other}/*`, `**/${other}`],
          message: `src/${layer} may not import src/${other} (layering: cli/api → engine → image/net/build → runtime). Move the shared piece down a layer.`,
        })),
      }],
    },
  };
});

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
  ...layerRules,
);
