// berth's one-way layering (docs/architecture.md), as an ESLint rule that
// reads every way a module can reach another: `import … from`, `export … from`,
// `import()` (a dynamic import is a dependency too), and TypeScript's
// `import('…').Type`. It only judges relative specifiers, which are how berth's
// modules name each other, and a dynamic import whose specifier is a string
// the linter can read; a computed one (hook.ts's `new URL(…)`) is not judged.

import { dirname, relative, resolve, sep } from 'node:path';

/**
 * Which layer may import which. A layer may always import from itself and
 * from util/. Everything not listed is forbidden: move shared code down a
 * layer instead of importing upwards.
 */
export const LAYERS = {
  cli: ['engine'],
  api: ['engine'],
  engine: ['image', 'net', 'build', 'runtime', 'vm'],
  build: ['image', 'runtime'],
  image: [],
  net: ['runtime'],
  vm: ['runtime'],
  runtime: [],
  util: [],
};

/** The faces reach the engine through its surface only. */
const FACES = ['cli', 'api'];
const SURFACE = 'engine/index.ts';

/**
 * `berth runtime …` is the runtime's own face (an OCI runtime's command
 * line, as runc's): its commands may call the runtime directly.
 */
const EXTRA = [{ under: 'cli/runtime/', may: 'runtime' }];

/** "cli/container/ps.ts" for <root>/src/cli/container/ps.ts; undefined outside src/. */
function srcPath(file, root) {
  const rel = relative(resolve(root, 'src'), file).split(sep).join('/');
  if (rel.startsWith('..') || rel === '' || rel.startsWith('/')) return undefined;
  return rel;
}

/** The module file a specifier names: .js in a specifier is the .ts source; a directory is its index. */
function asSource(path) {
  if (path.endsWith('.js')) return `${path.slice(0, -3)}.ts`;
  if (!/\.[cm]?[jt]s$/.test(path)) return `${path}/index.ts`;
  return path;
}

function verdict(from, to) {
  const fromLayer = from.split('/')[0];
  const toLayer = to.split('/')[0];
  if (!(fromLayer in LAYERS) || fromLayer === toLayer || toLayer === 'util') return undefined;
  const extra = EXTRA.some((e) => from.startsWith(e.under) && e.may === toLayer);
  if (!extra && !LAYERS[fromLayer].includes(toLayer)) {
    const allowed = [...LAYERS[fromLayer], 'util'].map((l) => `src/${l}`).join(', ');
    return FACES.includes(fromLayer) && toLayer !== 'engine'
      ? `src/${fromLayer} may not import src/${to}: a face reaches image/ and runtime/ through the engine. Export what it needs from src/${SURFACE} (the engine's surface).`
      : `src/${fromLayer} may not import src/${to} (layering: cli/api → engine → image/net/build → runtime; src/${fromLayer} may import ${allowed}). Move the shared piece down a layer.`;
  }
  if (FACES.includes(fromLayer) && toLayer === 'engine' && to !== SURFACE) {
    return `src/${fromLayer} may not import src/${to}: a face imports only the engine's surface, src/${SURFACE}. Export what it needs from there (and move any Docker rule it needs into the engine).`;
  }
  return undefined;
}

/** The text of a static string node (a literal, or a template without substitutions). */
function staticString(node) {
  if (!node) return undefined;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
  if (node.type === 'TSLiteralType') return staticString(node.literal);
  return undefined;
}

export const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: 'one-way layering between src/ layers, and the faces only through src/engine/index.ts' },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const from = srcPath(context.filename, root);
    if (!from) return {};
    const check = (node, source) => {
      const spec = staticString(source);
      if (spec === undefined || !spec.startsWith('.')) return;
      const to = srcPath(asSource(resolve(dirname(context.filename), spec)), root);
      if (!to) return;
      const message = verdict(from, to);
      if (message) context.report({ node, message });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.argument),
    };
  },
};

export default { rules: { layering: layeringRule } };
