// The layering lint (eslint-rules/layering.js) through ESLint's own API and
// the project's eslint.config.js: each way of reaching across layers fails,
// and the ways the layering allows pass. The files named need not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The layering messages for `code` as if it were the file at `path` (relative to the repository). */
async function layeringErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${path}` });
  return result!.messages.filter((m) => m.ruleId === 'berth/layering').map((m) => m.message);
}

const forbidden: [string, string, string, RegExp][] = [
  ['a face imports an engine module other than its surface', 'src/cli/container/ps.ts',
    `import { imageSize } from '../../engine/images.js';\nexport const f = imageSize;\n`, /only the engine's surface, src\/engine\/index\.ts/],
  ['a face imports a type from an engine module', 'src/cli/container/ps.ts',
    `import type { ContainerInfo } from '../../engine/container-info.js';\nexport type C = ContainerInfo;\n`, /only the engine's surface/],
  ['a face imports image/', 'src/cli/image/tag.ts',
    `import { parseReference } from '../../image/reference.js';\nexport const f = parseReference;\n`, /through the engine/],
  ['a face imports runtime/', 'src/cli/container/logs.ts',
    `import { readLog } from '../../runtime/json-log.js';\nexport const f = readLog;\n`, /through the engine/],
  ['a face re-exports an engine module', 'src/cli/format.ts',
    `export { statusText } from '../engine/container-list.js';\n`, /only the engine's surface/],
  ['a face imports an engine module dynamically', 'src/cli/container/ps.ts',
    `export const m = await import('../../engine/images.js');\n`, /only the engine's surface/],
  ['a face imports runtime/ dynamically, with a template string', 'src/cli/internal.ts',
    'export const m = await import(`../runtime/signals.js`);\n', /through the engine/],
  ['a face names a runtime type through import()', 'src/cli/container/attach.ts',
    `export type S = import('../../runtime/state.js').ExitInfo;\n`, /through the engine/],
  ['the API face imports image/', 'src/api/images.ts',
    `import { parseReference } from '../image/reference.js';\nexport const f = parseReference;\n`, /through the engine/],
  ['the engine imports the CLI dynamically', 'src/engine/health.ts',
    `export const m = await import('../cli/format.js');\n`, /src\/engine may not import src\/cli\/format\.ts/],
  ['the runtime imports the engine', 'src/runtime/container.ts',
    `import { Engine } from '../engine/index.js';\nexport const e = Engine;\n`, /src\/runtime may not import src\/engine\/index\.ts/],
  ['image/ imports the runtime dynamically', 'src/image/pull.ts',
    `export const m = await import('../runtime/signals.js');\n`, /src\/image may not import src\/runtime/],
];

for (const [what, path, code, message] of forbidden) {
  test(`lint refuses: ${what}`, async () => {
    const errors = await layeringErrors(path, code);
    assert.equal(errors.length, 1, `expected one layering error, got ${JSON.stringify(errors)}`);
    assert.match(errors[0]!, message);
  });
}

const allowed: [string, string, string][] = [
  ['a face imports the engine surface', 'src/cli/container/ps.ts',
    `import { containerList, type ContainerSummary } from '../../engine/index.js';\nexport const f = containerList;\nexport type S = ContainerSummary;\n`],
  ['a face imports the engine surface dynamically', 'src/cli/container/ps.ts',
    `export const m = await import('../../engine/index.js');\n`],
  ['a face imports the engine surface by its directory', 'src/api/server.ts',
    `import { Engine } from '../engine';\nexport const e = Engine;\n`],
  ['a face imports util/ and itself', 'src/cli/container/ps.ts',
    `import { invalid } from '../../util/errors.js';\nimport { table } from '../format.js';\nexport const f = [invalid, table];\n`],
  ['`berth runtime` imports the runtime', 'src/cli/runtime/state.ts',
    `import { Runtime } from '../../runtime/container.js';\nconst m = await import('../../runtime/signals.js');\nexport const f = [Runtime, m];\n`],
  ['the engine imports image/ and runtime/, statically and dynamically', 'src/engine/engine.ts',
    `import { ImageStore } from '../image/images.js';\nconst m = await import('../runtime/signals.js');\nexport const f = [ImageStore, m];\n`],
  ['a package is no layer', 'src/cli/main.ts',
    `import { Command } from 'commander';\nconst fs = await import('node:fs');\nexport const f = [Command, fs];\n`],
  ['a computed dynamic import is not judged', 'src/cli/hook.ts',
    `export const m = await import(new URL('main.js', import.meta.url).href);\n`],
];

for (const [what, path, code] of allowed) {
  test(`lint allows: ${what}`, async () => {
    assert.deepEqual(await layeringErrors(path, code), []);
  });
}
