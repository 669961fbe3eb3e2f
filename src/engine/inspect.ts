// `inspect` of a container in Docker's shape (the Engine API's
// ContainerInspectResponse), plus what berth adds to make the mechanics
// visible: the container's namespaces (which are its own, which the host's)
// and its cgroup with limits and usage. Kept apart from the engine's own
// types, so that Docker's spelling stays at the edge.
import { readFileSync } from 'node:fs';
import type { Spec } from '../runtime/spec.js';
import type { Engine } from './engine.js';
import { containerPaths, type ContainerInfo } from './container-info.js';
import { namespacesOf } from './namespaces-view.js';
import { cgroupSummaryOf } from './cgroups-view.js';
import { mergeHealthConfig } from './health.js';
import { configuredEnv } from './container-spec.js';
import type { HealthConfig } from './host-config.js';
import { networkSettings } from './network.js';

function bundleSpec(info: ContainerInfo): Spec | undefined {
  try {
    return JSON.parse(readFileSync(containerPaths(info.dir, info.id).config, 'utf8')) as Spec;
  } catch {
    return undefined;
  }
}

export function inspectContainer(engine: Engine, info: ContainerInfo, opts: { size?: { rw: number; rootFs: number } } = {}): Record<string, unknown> {
  const spec = bundleSpec(info);
  const paths = containerPaths(info.dir, info.id);
  const args = spec?.process?.args ?? [];
  const hc = info.body.HostConfig ?? {};
  let imageConfig: Record<string, unknown> = {};
  try {
    imageConfig = engine.imageRunConfig(engine.image(info.imageId)) as Record<string, unknown>;
  } catch { /* the image was removed by force */ }
  const running = info.state.Running;
  const healthcheck = mergeHealthConfig(imageConfig.Healthcheck as HealthConfig | undefined, info.body.Healthcheck);
  const mounts = (spec?.mounts ?? [])
    .filter((m) => m.type === 'bind' && m.source && m.source.startsWith('/') && !m.source.startsWith(info.dir) || m.type === 'tmpfs' && Object.keys(hc.Tmpfs ?? {}).includes(m.destination))
    .map((m) => {
      const volume = m.source?.startsWith(`${engine.root}/volumes/`) ? m.source.slice(engine.root.length + 9).split('/')[0] : undefined;
      return {
        Type: volume ? 'volume' : m.type,
        ...(volume ? { Name: volume } : {}),
        Source: m.type === 'tmpfs' ? '' : m.source,
        Destination: m.destination,
        Driver: volume ? 'local' : undefined,
        Mode: '',
        RW: !(m.options ?? []).includes('ro'),
        Propagation: volume || m.type === 'tmpfs' ? '' : 'rprivate',
      };
    });
  return {
    Id: info.id,
    Created: info.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: info.state,
    Image: info.imageId,
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    LogPath: paths.log,
    Name: `/${info.name}`,
    RestartCount: info.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      NetworkMode: 'bridge',
      RestartPolicy: hc.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: hc.AutoRemove ?? false,
      LogConfig: { Type: 'json-file', Config: {} },
      ...hc,
    },
    GraphDriver: { Name: 'overlay2', Data: { UpperDir: paths.upper, WorkDir: `${info.dir}/work`, MergedDir: paths.rootfs } },
    ...(opts.size ? { SizeRw: opts.size.rw, SizeRootFs: opts.size.rootFs } : {}),
    Mounts: mounts,
    Config: {
      Hostname: info.body.Hostname || info.id.slice(0, 12),
      Domainname: info.body.Domainname ?? '',
      User: info.body.User ?? imageConfig.User ?? '',
      AttachStdin: info.body.AttachStdin ?? false,
      AttachStdout: info.body.AttachStdout ?? false,
      AttachStderr: info.body.AttachStderr ?? false,
      Tty: info.body.Tty ?? false,
      OpenStdin: info.body.OpenStdin ?? false,
      StdinOnce: info.body.StdinOnce ?? false,
      Env: nullIfEmpty(configuredEnv(spec?.process?.env ?? [], (imageConfig.Env as string[] | null | undefined) ?? [], info.body.Env ?? [])),
      Cmd: info.body.Cmd ?? imageConfig.Cmd ?? null,
      Image: info.image,
      Volumes: imageConfig.Volumes ?? null,
      WorkingDir: spec?.process?.cwd ?? '',
      Entrypoint: info.body.Entrypoint ?? imageConfig.Entrypoint ?? null,
      Labels: { ...((imageConfig.Labels as Record<string, string> | undefined) ?? {}), ...(info.body.Labels ?? {}) },
      ...(info.body.StopSignal ?? imageConfig.StopSignal ? { StopSignal: info.body.StopSignal ?? imageConfig.StopSignal } : {}),
      ...(info.body.StopTimeout !== undefined ? { StopTimeout: info.body.StopTimeout } : {}),
      ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    },
    NetworkSettings: { ...networkSettings(engine, info.id, info.body, running), SandboxKey: running ? `/proc/${info.state.Pid}/ns/net` : '' },
    // berth's own: the mechanics that isolate and limit this container.
    Namespaces: running ? namespacesOf(info.state.Pid).map((n) => ({ Type: n.type, Inode: n.inode, Path: n.path, SharedWithHost: n.shared, Processes: n.processes })) : [],
    Cgroup: cgroupSection(info),
  };
}

function cgroupSection(info: ContainerInfo): Record<string, unknown> {
  try {
    const s = cgroupSummaryOf(info.cgroupsPath);
    return { Path: s.path, Version: s.version, Directories: s.directories, Exists: s.exists, Limits: s.limits, Usage: s.usage };
  } catch {
    return { Path: info.cgroupsPath, Exists: false };
  }
}

/** Go's nil slice: Docker prints an empty list it never filled as null. */
function nullIfEmpty<T>(list: T[]): T[] | null {
  return list.length ? list : null;
}
