// Errors say whose fault they are. A BerthError is an expected failure a user
// can cause (bad bundle, missing container, conflicting state): it carries a
// stable code and a kind, and the kind decides the exit status and, later, the
// HTTP status of the API, in one table. A BugError is a broken invariant.

export type ErrorKind =
  | 'usage'          // the command line asks for what cannot be (a bad --format): the client's fault, exit 1 as Docker's CLI
  | 'invalid'        // input is malformed (bundle, flag, reference)
  | 'notFound'       // the named thing does not exist
  | 'conflict'       // it exists, but its state forbids the operation
  | 'cannotExecute'  // the container's program exists but cannot be run
  | 'commandNotFound'// the container's program does not exist
  | 'system';        // the kernel or the host refused

const EXIT_STATUS: Record<ErrorKind, number> = {
  usage: 1,
  invalid: 125,
  notFound: 125,
  conflict: 125,
  system: 125,
  cannotExecute: 126,
  commandNotFound: 127,
};

export class BerthError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.kind = kind;
    this.code = code;
  }
  get exitStatus(): number {
    return EXIT_STATUS[this.kind];
  }
}

export class BugError extends Error {
  constructor(message: string) {
    super(`internal error (a bug in berth): ${message}`);
    this.name = 'BugError';
  }
}

export function invalid(code: string, message: string): BerthError {
  return new BerthError('invalid', code, message);
}
export function notFound(code: string, message: string): BerthError {
  return new BerthError('notFound', code, message);
}
export function conflict(code: string, message: string): BerthError {
  return new BerthError('conflict', code, message);
}
export function systemError(code: string, message: string, cause?: unknown): BerthError {
  return new BerthError('system', code, message, { cause });
}

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
