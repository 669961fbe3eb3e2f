// After the whole suite: anything of berth's still on the host was left by a
// test, whichever one it was. Prints what it finds and exits 1; silent when clean.
import { leftovers } from './support.js';

const found = leftovers('berth-test-');
if (found.length) {
  process.stdout.write(`the test suite left these behind:\n${found.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(1);
}
