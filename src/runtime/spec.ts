// The OCI runtime specification's config.json (runtime-spec 1.x), validated at
// the edge: a bundle from outside becomes a typed Spec, or a BerthError whose
// message names the field that is wrong ("process.args: …").
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { z } from 'zod';
import { invalid, errnoCode } from '../util/errors.js';

const uint32 = z.number().int().min(0).max(0xffffffff);
const int64 = z.number().int();

const idMapping = z.object({ containerID: uint32, hostID: uint32, size: uint32.min(1) });

const mount = z.object({
  destination: z.string().min(1),
  type: z.string().optional(),
  source: z.string().optional(),
  options: z.array(z.string()).optional(),
});

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

const namespace = z.object({
  type: z.string().refine((t) => (NAMESPACE_TYPES as readonly string[]).includes(t), {
    message: `unknown namespace type (known: ${NAMESPACE_TYPES.join(', ')})`,
  }).transform((t) => t as NamespaceType),
  path: z.string().optional(),
});

// uint64: RLIM_INFINITY (2^64-1) is beyond a safe integer, and is what "unlimited" is.
const rlimitValue = z.number().min(0).refine(Number.isInteger, 'expected an integer');
const rlimit = z.object({ type: z.string(), soft: rlimitValue, hard: rlimitValue });

const capabilities = z.object({
  bounding: z.array(z.string()).optional(),
  effective: z.array(z.string()).optional(),
  inheritable: z.array(z.string()).optional(),
  permitted: z.array(z.string()).optional(),
  ambient: z.array(z.string()).optional(),
});

const user = z.object({
  uid: uint32,
  gid: uint32,
  umask: uint32.optional(),
  additionalGids: z.array(uint32).optional(),
});

const processSchema = z.object({
  terminal: z.boolean().optional(),
  consoleSize: z.object({ height: uint32, width: uint32 }).optional(),
  user,
  args: z.array(z.string()).min(1, 'must name the program to run'),
  env: z.array(z.string()).optional(),
  cwd: z.string().refine((c) => c.startsWith('/'), 'must be an absolute path'),
  capabilities: capabilities.optional(),
  rlimits: z.array(rlimit).optional(),
  noNewPrivileges: z.boolean().optional(),
  oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
  apparmorProfile: z.string().optional(),
  selinuxLabel: z.string().optional(),
});

/**
 * A device path, normalised, when it names something below /dev: the check is
 * made on the normal form, so that "/dev/../etc/passwd" is not taken for a
 * device path. Undefined otherwise.
 */
export function devicePath(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const normal = posix.normalize(path).replace(/\/+$/, '');
  return normal.startsWith('/dev/') ? normal : undefined;
}

const device = z.object({
  type: z.enum(['c', 'b', 'u', 'p']),
  path: z.string().transform((p, ctx) => {
    const normal = devicePath(p);
    if (normal === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${p}" must be under /dev` });
    return normal ?? p;
  }),
  major: int64.optional(),
  minor: int64.optional(),
  fileMode: uint32.optional(),
  uid: uint32.optional(),
  gid: uint32.optional(),
});

const deviceRule = z.object({
  allow: z.boolean(),
  type: z.enum(['a', 'c', 'b']).optional(),
  major: int64.nullable().optional(),
  minor: int64.nullable().optional(),
  access: z.string().regex(/^[rwm]*$/, 'must be made of r, w and m').optional(),
});

const resources = z.object({
  devices: z.array(deviceRule).optional(),
  memory: z.object({
    limit: int64.optional(),
    reservation: int64.optional(),
    swap: int64.optional(),
    kernel: int64.optional(),
    kernelTCP: int64.optional(),
    swappiness: z.number().int().min(0).max(100).optional(),
    disableOOMKiller: z.boolean().optional(),
  }).optional(),
  cpu: z.object({
    shares: int64.min(0).optional(),
    quota: int64.optional(),
    period: int64.min(0).optional(),
    realtimeRuntime: int64.optional(),
    realtimePeriod: int64.optional(),
    cpus: z.string().optional(),
    mems: z.string().optional(),
    idle: int64.optional(),
  }).optional(),
  pids: z.object({ limit: int64 }).optional(),
  blockIO: z.object({
    weight: z.number().int().min(10).max(1000).optional(),
    leafWeight: z.number().int().optional(),
  }).passthrough().optional(),
  hugepageLimits: z.array(z.object({ pageSize: z.string(), limit: int64 })).optional(),
  unified: z.record(z.string(), z.string()).optional(),
}).passthrough();

const seccompArg = z.object({
  index: z.number().int().min(0).max(5),
  value: z.number(),
  valueTwo: z.number().optional(),
  op: z.string(),
});

const seccomp = z.object({
  defaultAction: z.string(),
  defaultErrnoRet: uint32.optional(),
  architectures: z.array(z.string()).optional(),
  flags: z.array(z.string()).optional(),
  listenerPath: z.string().optional(),
  syscalls: z.array(z.object({
    names: z.array(z.string()).min(1),
    action: z.string(),
    errnoRet: uint32.optional(),
    args: z.array(seccompArg).optional(),
  })).optional(),
});

const linux = z.object({
  namespaces: z.array(namespace).optional(),
  uidMappings: z.array(idMapping).optional(),
  gidMappings: z.array(idMapping).optional(),
  devices: z.array(device).optional(),
  cgroupsPath: z.string().optional(),
  resources: resources.optional(),
  rootfsPropagation: z.enum(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable']).optional(),
  seccomp: seccomp.optional(),
  sysctl: z.record(z.string(), z.string()).optional(),
  maskedPaths: z.array(z.string()).optional(),
  readonlyPaths: z.array(z.string()).optional(),
  mountLabel: z.string().optional(),
  personality: z.unknown().optional(),
});

export const specSchema = z.object({
  ociVersion: z.string().regex(/^1\.\d+\.\d+/, 'must be a 1.x runtime-spec version'),
  process: processSchema.optional(),
  root: z.object({ path: z.string().min(1), readonly: z.boolean().optional() }),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  mounts: z.array(mount).optional(),
  hooks: z.unknown().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  linux: linux.optional(),
});

export type Spec = z.infer<typeof specSchema>;
export type SpecProcess = z.infer<typeof processSchema>;
export type SpecMount = z.infer<typeof mount>;
export type SpecLinux = z.infer<typeof linux>;
export type SpecNamespace = z.infer<typeof namespace>;
export type SpecDevice = z.infer<typeof device>;

/** Validate an already-parsed config.json. */
export function parseSpec(value: unknown, source = 'config.json'): Spec {
  return parseWith(specSchema, value, source);
}

/** Validate linux.resources on its own (`update --resources`, as runc takes it). */
export function parseResources(value: unknown, source: string): z.infer<typeof resources> {
  return parseWith(resources, value, source);
}

/** Validate a process object on its own (`exec --process`, as runc takes it). */
export function parseProcess(value: unknown, source: string): SpecProcess {
  return parseWith(processSchema, value, source);
}

function parseWith<T extends z.ZodTypeAny>(schema: T, value: unknown, source: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.infer<T>;
  const issue = result.error.issues[0]!;
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)';
  throw invalid('InvalidSpec', `${source}: ${field}: ${issue.message}`);
}

/** Read and validate <bundle>/config.json. */
export function loadSpec(bundle: string): Spec {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw invalid('BundleNoConfig', `bundle ${bundle}: no config.json`);
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid('InvalidSpec', `${path}: not valid JSON: ${(err as Error).message}`);
  }
  return parseSpec(value, path);
}
