// Go's text/template, as Docker's --format and inspect -f run it: actions,
// pipelines, variables, if/else/range/with/define/template/block,
// break/continue, the trim markers, Go's builtin functions and Docker's own
// (json, join, split, title, lower, upper, pad, truncate). Scripts written for
// Docker's output must print the same here, so the semantics follow Go's:
// truthiness, %v printing, `<no value>` for a missing map key, and errors in
// Go's words for a missing field where Docker's data is a struct.
import { BerthError } from '../util/errors.js';

/** Go's template errors are the client's (Docker's CLI exits 1 for them). */
function templateError(message: string): BerthError {
  return new BerthError('usage', 'InvalidTemplate', `template: ${message}`);
}

export type TemplateFunction = (...args: unknown[]) => unknown;

export interface ExecuteOptions {
  /**
   * What a missing field is: Docker's ps/images rows are structs (an error,
   * "can't evaluate field"), inspect's documents are maps (`<no value>`).
   */
  missingField: 'error' | 'zero';
  /** Functions beyond Go's builtins and Docker's. */
  functions?: Record<string, TemplateFunction>;
}

// ---------------------------------------------------------------------------
// Lexing and parsing

type Operand =
  | { kind: 'dot' }
  | { kind: 'field'; receiver: Operand | null; names: string[] } // .A.B or (pipe).A or $x.A
  | { kind: 'variable'; name: string }
  | { kind: 'identifier'; name: string }
  | { kind: 'literal'; value: unknown }
  | { kind: 'pipeline'; pipe: Pipeline };

interface Command { operands: Operand[] }
interface Pipeline { declare: string[]; assign: boolean; commands: Command[] }

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline; source: string }
  | { kind: 'if' | 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] | null }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] | null }
  | { kind: 'template'; name: string; pipe: Pipeline | null }
  | { kind: 'break' | 'continue' };

type Token =
  | { t: 'word'; v: string }      // identifiers and keywords
  | { t: 'field'; v: string[] }   // .A.B (empty list: dot)
  | { t: 'var'; v: string; fields: string[] }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'punct'; v: '|' | '(' | ')' | ':=' | '=' | ',' }
  | { t: 'fieldsAfter'; v: string[] }; // .A.B directly after ')'

function lexAction(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fieldChain = (): string[] => {
    const names: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      const m = /^[A-Za-z0-9_]+/.exec(src.slice(i))!;
      names.push(m[0]);
      i += m[0].length;
    }
    return names;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|' || c === '(' || c === ',') { tokens.push({ t: 'punct', v: c }); i++; continue; }
    if (c === ')') {
      tokens.push({ t: 'punct', v: ')' });
      i++;
      if (src[i] === '.') tokens.push({ t: 'fieldsAfter', v: fieldChain() });
      continue;
    }
    if (c === ':' && src[i + 1] === '=') { tokens.push({ t: 'punct', v: ':=' }); i += 2; continue; }
    if (c === '=') { tokens.push({ t: 'punct', v: '=' }); i++; continue; }
    if (c === '"') {
      const m = /^"(?:[^"\\\n]|\\.)*"/.exec(src.slice(i));
      if (!m) throw templateError(`unterminated quoted string in ${src}`);
      tokens.push({ t: 'string', v: JSON.parse(m[0].replace(/\\'/g, "'").replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b')) as string });
      i += m[0].length;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw templateError(`unterminated raw quoted string in ${src}`);
      tokens.push({ t: 'string', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (c === "'") {
      const m = /^'(?:[^'\\]|\\.)'/.exec(src.slice(i));
      if (!m) throw templateError(`bad character constant in ${src}`);
      tokens.push({ t: 'number', v: (JSON.parse(`"${m[0].slice(1, -1)}"`) as string).codePointAt(0)! });
      i += m[0].length;
      continue;
    }
    if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) { tokens.push({ t: 'field', v: fieldChain() }); continue; }
      if (!/[0-9]/.test(src[i + 1] ?? '')) { tokens.push({ t: 'field', v: [] }); i++; continue; }
    }
    if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      tokens.push({ t: 'var', v: m[0], fields: fieldChain() });
      continue;
    }
    const num = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
    if (num && /[0-9]/.test(num[0])) {
      const text = num[0].replace(/_/g, '');
      const n = /^[+-]?0[xXbBoO]/.test(text) ? Number(text.replace(/^([+-]?)0[oO]/, '$10o')) : Number(text);
      if (Number.isNaN(n)) throw templateError(`bad number syntax: ${num[0]}`);
      tokens.push({ t: 'number', v: n });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (word) { tokens.push({ t: 'word', v: word[0] }); i += word[0].length; continue; }
    throw templateError(`unexpected "${c}" in ${src}`);
  }
  return tokens;
}

class ActionParser {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly source: string) {}

  done(): boolean { return this.i >= this.tokens.length; }
  peek(): Token | undefined { return this.tokens[this.i]; }
  next(): Token | undefined { return this.tokens[this.i++]; }

  pipeline(allowDeclare: boolean, rangeDeclare = false): Pipeline {
    const pipe: Pipeline = { declare: [], assign: false, commands: [] };
    if (allowDeclare) {
      // $x := …, $x = …, or (range) $i, $e := …
      const save = this.i;
      const vars: string[] = [];
      while (this.peek()?.t === 'var' && (this.peek() as { fields: string[] }).fields.length === 0) {
        vars.push((this.next() as { v: string }).v);
        const p = this.peek();
        if (p?.t === 'punct' && p.v === ',' && rangeDeclare && vars.length === 1) { this.next(); continue; }
        break;
      }
      const op = this.peek();
      if (vars.length > 0 && op?.t === 'punct' && (op.v === ':=' || op.v === '=')) {
        this.next();
        pipe.declare = vars;
        pipe.assign = op.v === '=';
      } else this.i = save;
    }
    for (;;) {
      pipe.commands.push(this.command());
      const p = this.peek();
      if (p?.t === 'punct' && p.v === '|') { this.next(); continue; }
      break;
    }
    return pipe;
  }

  private command(): Command {
    const operands: Operand[] = [];
    for (;;) {
      const p = this.peek();
      if (!p || (p.t === 'punct' && (p.v === '|' || p.v === ')'))) break;
      operands.push(this.operand());
    }
    if (operands.length === 0) throw templateError(`missing value for command in {{${this.source}}}`);
    return { operands };
  }

  private operand(): Operand {
    const tok = this.next()!;
    let operand: Operand;
    switch (tok.t) {
      case 'field': operand = tok.v.length === 0 ? { kind: 'dot' } : { kind: 'field', receiver: null, names: tok.v }; break;
      case 'var': operand = tok.fields.length ? { kind: 'field', receiver: { kind: 'variable', name: tok.v }, names: tok.fields } : { kind: 'variable', name: tok.v }; break;
      case 'string': operand = { kind: 'literal', value: tok.v }; break;
      case 'number': operand = { kind: 'literal', value: tok.v }; break;
      case 'word':
        if (tok.v === 'true' || tok.v === 'false') operand = { kind: 'literal', value: tok.v === 'true' };
        else if (tok.v === 'nil') operand = { kind: 'literal', value: null };
        else operand = { kind: 'identifier', name: tok.v };
        break;
      case 'punct':
        if (tok.v !== '(') throw templateError(`unexpected "${tok.v}" in {{${this.source}}}`);
        operand = { kind: 'pipeline', pipe: this.pipeline(true) };
        if ((this.next() as { v?: string } | undefined)?.v !== ')') throw templateError(`unclosed left paren in {{${this.source}}}`);
        if (this.peek()?.t === 'fieldsAfter') operand = { kind: 'field', receiver: operand, names: (this.next() as { v: string[] }).v };
        break;
      default:
        throw templateError(`unexpected token in {{${this.source}}}`);
    }
    return operand;
  }
}

interface RawAction { source: string; position: number }

/** Split a template into text and actions, applying the `{{- ` and ` -}}` trim markers. */
function scan(template: string): (string | RawAction)[] {
  const parts: (string | RawAction)[] = [];
  let i = 0;
  let trimNext = false;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    let text = template.slice(i, open < 0 ? template.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { if (text) parts.push(text); break; }
    let start = open + 2;
    if (/^-[ \t\r\n]/.test(template.slice(start))) { text = text.replace(/\s+$/, ''); start += 2; }
    if (text) parts.push(text);
    // A comment may hold "}}"; elsewhere "}}" inside a string ends nothing.
    let end: number;
    const body = template.slice(start);
    if (/^\s*\/\*/.test(body)) {
      const close = template.indexOf('*/', start);
      if (close < 0) throw templateError('unclosed comment');
      end = template.indexOf('}}', close);
    } else {
      end = -1;
      let quote = '';
      for (let j = start; j < template.length; j++) {
        const ch = template[j]!;
        if (quote) {
          if (ch === '\\' && quote !== '`') j++;
          else if (ch === quote) quote = '';
        } else if (ch === '"' || ch === '`' || ch === "'") quote = ch;
        else if (ch === '}' && template[j + 1] === '}') { end = j; break; }
      }
      if (end < 0 && quote) throw templateError(quote === '`' ? 'unterminated raw quoted string' : 'unterminated quoted string');
    }
    if (end < 0) throw templateError(`unclosed action`);
    let source = template.slice(start, end);
    if (/[ \t\r\n]-$/.test(source)) { source = source.slice(0, -2); trimNext = true; }
    parts.push({ source, position: open });
    i = end + 2;
  }
  return parts;
}

class TemplateParser {
  private i = 0;
  readonly definitions = new Map<string, Node[]>();
  constructor(private readonly parts: (string | RawAction)[]) {}

  parse(): Node[] {
    const { nodes, end } = this.list();
    if (end) throw templateError(`unexpected {{${end}}}`);
    return nodes;
  }

  /** Nodes up to an {{end}} or {{else …}} (returned as `end`), or the input's end. */
  private list(): { nodes: Node[]; end: string | null; endTokens?: Token[]; endSource?: string } {
    const nodes: Node[] = [];
    while (this.i < this.parts.length) {
      const part = this.parts[this.i++]!;
      if (typeof part === 'string') { nodes.push({ kind: 'text', text: part }); continue; }
      const source = part.source.trim();
      if (/^\/\*[\s\S]*\*\/$/.test(source)) continue;
      const tokens = lexAction(source);
      const first = tokens[0];
      if (!first) throw templateError(`missing value for command`);
      const keyword = first.t === 'word' ? first.v : '';
      const parser = new ActionParser(tokens, source);
      switch (keyword) {
        case 'end': return { nodes, end: 'end' };
        case 'else': return { nodes, end: 'else', endTokens: tokens.slice(1), endSource: source };
        case 'if': case 'with': case 'range': {
          parser.next();
          const pipe = parser.pipeline(true, keyword === 'range');
          if (!parser.done()) throw templateError(`unexpected token in {{${source}}}`);
          nodes.push(this.control(keyword, pipe));
          break;
        }
        case 'break': case 'continue':
          nodes.push({ kind: keyword });
          break;
        case 'define': case 'block': case 'template': {
          parser.next();
          const name = parser.next();
          if (name?.t !== 'string') throw templateError(`${keyword}: a quoted template name is needed in {{${source}}}`);
          const pipe = parser.done() ? null : parser.pipeline(false);
          if (keyword === 'template') { nodes.push({ kind: 'template', name: name.v, pipe }); break; }
          const body = this.list();
          if (body.end !== 'end') throw templateError(`unexpected EOF in ${keyword} "${name.v}"`);
          this.definitions.set(name.v, body.nodes);
          if (keyword === 'block') nodes.push({ kind: 'template', name: name.v, pipe });
          break;
        }
        default: {
          const pipe = parser.pipeline(true);
          if (!parser.done()) throw templateError(`unexpected ")" in {{${source}}}`);
          nodes.push({ kind: 'action', pipe, source });
        }
      }
    }
    return { nodes, end: null };
  }

  private control(kind: 'if' | 'with' | 'range', pipe: Pipeline): Node {
    const body = this.list();
    let otherwise: Node[] | null = null;
    if (body.end === 'else') {
      const rest = body.endTokens!;
      if (rest.length > 0 && rest[0]!.t === 'word' && (rest[0].v === 'if' || rest[0].v === 'with')) {
        // {{else if …}} is {{else}}{{if …}}…{{end}} sharing the outer {{end}}.
        const parser = new ActionParser(rest.slice(1), body.endSource!);
        const inner = parser.pipeline(true);
        otherwise = [this.control(rest[0].v, inner)];
        return kind === 'range' ? { kind, pipe, body: body.nodes, otherwise } : { kind, pipe, body: body.nodes, otherwise };
      }
      const tail = this.list();
      if (tail.end !== 'end') throw templateError(`expected {{end}} after {{else}}`);
      otherwise = tail.nodes;
    } else if (body.end !== 'end') throw templateError(`unexpected EOF: {{${kind}}} without {{end}}`);
    return { kind, pipe, body: body.nodes, otherwise };
  }
}

// ---------------------------------------------------------------------------
// Values as Go sees them

/** Go's notion of "empty" for if/with/and/or/not. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's %v of a float64: the shortest repr, exponent form outside [1e-4, 1e21) for integers' sake kept plain. */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [mantissa, e] = n.toExponential().split('e') as [string, string];
    const sign = e.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${e.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return String(n);
}

/** Go's fmt %v. */
export function goString(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return '<func>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goString(a);
  });
  return out;
}

/** fmt.Sprintf for the verbs templates use: %v %s %d %q %x %X %f %t %%, with flags, width and precision. */
function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+))?([a-zA-Z%])/g, (_m, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[n++];
    let s: string;
    switch (verb) {
      case 'v': case 's': s = goString(arg); if (precision !== undefined && verb === 's') s = s.slice(0, Number(precision)); break;
      case 'q': s = JSON.stringify(goString(arg)); break;
      case 'd': s = typeof arg === 'number' ? String(Math.trunc(arg)) : `%!d(${goString(arg)})`; break;
      case 'x': case 'X':
        s = typeof arg === 'number' ? Math.trunc(arg).toString(16) : Buffer.from(goString(arg)).toString('hex');
        if (verb === 'X') s = s.toUpperCase();
        break;
      case 'f': case 'F': s = typeof arg === 'number' ? arg.toFixed(precision === undefined ? 6 : Number(precision)) : `%!f(${goString(arg)})`; break;
      case 't': s = typeof arg === 'boolean' ? String(arg) : `%!t(${goString(arg)})`; break;
      default: s = `%!${verb}(${goString(arg)})`;
    }
    if (flags.includes('+') && typeof arg === 'number' && arg >= 0 && 'dfF'.includes(verb)) s = `+${s}`;
    const w = width === '*' ? 0 : Number(width ?? 0);
    if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : flags.includes('0') && typeof arg === 'number' ? s.padStart(w, '0') : s.padStart(w);
    return s;
  }) + (n < args.length ? `%!(EXTRA ${args.slice(n).map(goString).join(', ')})` : '');
}

function compareValues(name: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw templateError(`error calling ${name}: incompatible types for comparison`);
}

function goEqual(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a !== typeof b) throw templateError('error calling eq: incompatible types for comparison');
  if (typeof a === 'object') throw templateError('error calling eq: non-comparable type');
  return a === b;
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'number' || !Number.isInteger(k)) throw templateError(`error calling index: cannot index slice/array with type ${typeof k}`);
      if (k < 0 || k >= v.length) throw templateError(`error calling index: index out of range: ${k}`);
      v = typeof v === 'string' ? v.charCodeAt(k) : v[k];
    } else if (v !== null && typeof v === 'object') {
      v = (v as Record<string, unknown>)[String(k)];
    } else if (v === undefined || v === null) {
      throw templateError('error calling index: index of untyped nil');
    } else throw templateError(`error calling index: can't index item of type ${typeof v}`);
  }
  return v;
}

const stringArg = (name: string, v: unknown): string => {
  if (typeof v !== 'string') throw templateError(`error calling ${name}: wrong type for value; expected string; got ${v === null || v === undefined ? 'nil' : typeof v}`);
  return v;
};

/** Go's builtins and the functions Docker's CLI adds (cli/templates). */
const BUILTINS: Record<string, TemplateFunction> = {
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  not: (a) => !truthy(a),
  len: (a) => {
    if (typeof a === 'string') return Buffer.byteLength(a);
    if (Array.isArray(a)) return a.length;
    if (a !== null && typeof a === 'object') return Object.keys(a).length;
    throw templateError(`error calling len: len of ${a === null || a === undefined ? 'nil pointer' : `type ${typeof a}`}`);
  },
  index,
  slice: (item, ...bounds) => {
    if (typeof item !== 'string' && !Array.isArray(item)) throw templateError('error calling slice: can\'t slice item');
    const [from = 0, to = item.length] = bounds as number[];
    return item.slice(from, to);
  },
  print: (...args) => sprint(args),
  println: (...args) => `${args.map(goString).join(' ')}\n`,
  printf: (format, ...args) => sprintf(stringArg('printf', format), args),
  eq: (a, ...bs) => bs.some((b) => goEqual(a, b)),
  ne: (a, b) => !goEqual(a, b),
  lt: (a, b) => compareValues('lt', a, b) < 0,
  le: (a, b) => compareValues('le', a, b) <= 0,
  gt: (a, b) => compareValues('gt', a, b) > 0,
  ge: (a, b) => compareValues('ge', a, b) >= 0,
  html: (...args) => sprint(args).replace(/[&<>"'\0]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '\0': '\uFFFD' })[c]!),
  js: (...args) => sprint(args).replace(/[\\'"<>&=\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!),
  urlquery: (...args) => encodeURIComponent(sprint(args)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  call: (fn, ...args) => {
    if (typeof fn !== 'function') throw templateError('error calling call: non-function');
    return (fn as TemplateFunction)(...args);
  },
  // Docker's (cli/templates/templates.go)
  // Go's encoder writes an int64 whole: a BigInt (nanosecond times) as a number.
  json: (v) => JSON.stringify(v === undefined ? null : v, (_k, x: unknown) => (typeof x === 'bigint' ? `\u0000bigint:${x}` : x)).replace(/"\\u0000bigint:(-?\d+)"/g, '$1'),
  split: (s, sep) => stringArg('split', s).split(stringArg('split', sep)),
  join: (list, sep) => {
    if (!Array.isArray(list)) throw templateError('error calling join: wrong type for value; expected []string');
    return list.map(goString).join(stringArg('join', sep));
  },
  title: (s) => stringArg('title', s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase()),
  lower: (s) => stringArg('lower', s).toLowerCase(),
  upper: (s) => stringArg('upper', s).toUpperCase(),
  pad: (s, prefix, suffix) => (stringArg('pad', s) === '' ? '' : ' '.repeat(Number(prefix)) + String(s) + ' '.repeat(Number(suffix))),
  truncate: (s, n) => {
    const chars = [...stringArg('truncate', s)];
    return chars.length < Number(n) ? String(s) : chars.slice(0, Number(n)).join('');
  },
};

// ---------------------------------------------------------------------------
// Execution

class Break {}
class Continue {}

class Executor {
  private readonly functions: Record<string, TemplateFunction>;
  private out = '';
  constructor(private readonly definitions: Map<string, Node[]>, private readonly options: ExecuteOptions) {
    this.functions = { ...BUILTINS, ...options.functions };
  }

  run(nodes: Node[], dot: unknown): string {
    this.out = '';
    this.list(nodes, dot, [new Map([['$', dot]])]);
    return this.out;
  }

  private list(nodes: Node[], dot: unknown, scopes: Map<string, unknown>[]): void {
    const scope = [...scopes, new Map<string, unknown>()];
    for (const node of nodes) this.node(node, dot, scope);
  }

  private node(node: Node, dot: unknown, scopes: Map<string, unknown>[]): void {
    switch (node.kind) {
      case 'text': this.out += node.text; return;
      case 'action': {
        const value = this.pipeline(node.pipe, dot, scopes);
        if (node.pipe.declare.length === 0) this.out += goString(value);
        return;
      }
      case 'if': case 'with': {
        const value = this.pipeline(node.pipe, dot, scopes);
        if (truthy(value)) this.list(node.body, node.kind === 'with' ? value : dot, scopes);
        else if (node.otherwise) this.list(node.otherwise, dot, scopes);
        return;
      }
      case 'range': return this.range(node, dot, scopes);
      case 'template': {
        const body = this.definitions.get(node.name);
        if (!body) throw templateError(`no such template "${node.name}"`);
        const value = node.pipe ? this.pipeline(node.pipe, dot, scopes) : undefined;
        this.list(body, value, [new Map([['$', value]])]);
        return;
      }
      case 'break': throw new Break();
      case 'continue': throw new Continue();
    }
  }

  private range(node: Extract<Node, { kind: 'range' }>, dot: unknown, scopes: Map<string, unknown>[]): void {
    const pipe = { ...node.pipe, declare: [] };
    const value = this.pipeline(pipe, dot, scopes);
    let items: [unknown, unknown][];
    if (Array.isArray(value)) items = value.map((v, i) => [i, v]);
    else if (typeof value === 'number' && Number.isInteger(value)) items = Array.from({ length: Math.max(0, value) }, (_, i) => [i, i]);
    else if (value !== null && typeof value === 'object') items = Object.keys(value).sort().map((k) => [k, (value as Record<string, unknown>)[k]]);
    else if (value === null || value === undefined) items = [];
    else throw templateError(`range can't iterate over ${goString(value)}`);
    if (items.length === 0) {
      if (node.otherwise) this.list(node.otherwise, dot, scopes);
      return;
    }
    for (const [key, item] of items) {
      const scope = new Map<string, unknown>();
      const names = node.pipe.declare;
      if (names.length === 1) scope.set(names[0]!, item);
      if (names.length === 2) { scope.set(names[0]!, key); scope.set(names[1]!, item); }
      try {
        this.list(node.body, item, [...scopes, scope]);
      } catch (signal) {
        if (signal instanceof Break) break;
        if (signal instanceof Continue) continue;
        throw signal;
      }
    }
  }

  private pipeline(pipe: Pipeline, dot: unknown, scopes: Map<string, unknown>[]): unknown {
    let value: unknown;
    let piped = false;
    for (const command of pipe.commands) {
      value = this.command(command, dot, scopes, piped ? [value] : []);
      piped = true;
    }
    for (const name of pipe.declare) {
      if (pipe.assign) {
        const scope = [...scopes].reverse().find((s) => s.has(name));
        if (!scope) throw templateError(`undefined variable: ${name}`);
        scope.set(name, value);
      } else scopes[scopes.length - 1]!.set(name, value);
    }
    return value;
  }

  private command(command: Command, dot: unknown, scopes: Map<string, unknown>[], piped: unknown[]): unknown {
    const [head, ...rest] = command.operands;
    const args = () => [...rest.map((o) => this.operand(o, dot, scopes, [])), ...piped];
    if (head!.kind === 'identifier') {
      const fn = this.functions[head!.name];
      if (!fn) throw templateError(`function "${head!.name}" not defined`);
      // and/or stop at the first deciding argument, as Go's do since 1.18.
      if (head!.name === 'and' || head!.name === 'or') {
        let last: unknown;
        for (const o of rest) {
          last = this.operand(o, dot, scopes, []);
          if (truthy(last) === (head!.name === 'or')) return last;
        }
        for (const p of piped) last = p;
        return last;
      }
      return fn(...args());
    }
    if (head!.kind === 'field') return this.operand(head!, dot, scopes, args());
    if (rest.length > 0 || piped.length > 0) throw templateError(`can't give argument to non-function ${describe(head!)}`);
    return this.operand(head!, dot, scopes, []);
  }

  private operand(operand: Operand, dot: unknown, scopes: Map<string, unknown>[], args: unknown[]): unknown {
    switch (operand.kind) {
      case 'dot': return dot;
      case 'literal': return operand.value;
      case 'variable': {
        const scope = [...scopes].reverse().find((s) => s.has(operand.name));
        if (!scope) throw templateError(`undefined variable: ${operand.name}`);
        return scope.get(operand.name);
      }
      case 'identifier': {
        const fn = this.functions[operand.name];
        if (!fn) throw templateError(`function "${operand.name}" not defined`);
        return fn();
      }
      case 'pipeline': return this.pipeline(operand.pipe, dot, scopes);
      case 'field': {
        let value = operand.receiver ? this.operand(operand.receiver, dot, scopes, []) : dot;
        operand.names.forEach((name, i) => {
          const last = i === operand.names.length - 1;
          value = this.field(value, name, last ? args : [], describe(operand));
        });
        return value;
      }
    }
  }

  private field(receiver: unknown, name: string, args: unknown[], where: string): unknown {
    if (receiver === null || receiver === undefined) throw templateError(`executing at <${where}>: nil pointer evaluating interface {}.${name}`);
    if (typeof receiver !== 'object' || Array.isArray(receiver)) throw templateError(`executing at <${where}>: can't evaluate field ${name} in type ${Array.isArray(receiver) ? 'slice' : typeof receiver}`);
    const record = receiver as Record<string, unknown>;
    if (!Object.prototype.hasOwnProperty.call(record, name) && typeof record[name] !== 'function') {
      if (this.options.missingField === 'error') throw templateError(`executing at <${where}>: can't evaluate field ${name}`);
      return undefined;
    }
    const value = record[name];
    if (typeof value === 'function') return (value as TemplateFunction).apply(record, args);
    if (args.length > 0) throw templateError(`executing at <${where}>: ${name} has arguments but cannot be invoked as function`);
    return value;
  }
}

function describe(operand: Operand): string {
  switch (operand.kind) {
    case 'dot': return '.';
    case 'field': return `${operand.receiver ? describe(operand.receiver) : ''}.${operand.names.join('.')}`;
    case 'variable': return operand.name;
    case 'identifier': return operand.name;
    case 'literal': return JSON.stringify(operand.value);
    case 'pipeline': return '(…)';
  }
}

export interface GoTemplate {
  execute(data: unknown): string;
}

/** Parse once, run on each row. Parse errors are thrown here, with Go's words where they matter. */
export function parseGoTemplate(template: string, options: ExecuteOptions): GoTemplate {
  const parser = new TemplateParser(scan(template));
  const nodes = parser.parse();
  const executor = new Executor(parser.definitions, options);
  return {
    execute(data: unknown): string {
      try {
        return executor.run(nodes, data);
      } catch (err) {
        if (err instanceof Break || err instanceof Continue) throw templateError('{{break}} or {{continue}} outside {{range}}');
        throw err;
      }
    },
  };
}
