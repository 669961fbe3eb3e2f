// What a container is made of, in Docker's own shape: the body of the Engine
// API's `POST /containers/create` (Config with HostConfig inside). The CLI
// turns its flags into this; the API server will take it as it comes. The
// engine stores it as the container's record and derives the OCI spec from it.
//
// Field names and units are Docker's (bytes, nano-CPUs, Go duration in ns),
// so that `inspect` and the API show what Docker shows.

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartPolicy {
  Name: RestartPolicyName;
  MaximumRetryCount?: number;
}

export interface Ulimit { Name: string; Soft: number; Hard: number }

export interface DeviceMapping { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }

/** `--mount` (and the API's HostConfig.Mounts). */
export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface HealthConfig {
  /** ["NONE"], ["CMD", args…] or ["CMD-SHELL", command]. */
  Test?: string[];
  /** Nanoseconds; 0 means "inherit" (Docker's default 30 s). */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface HostConfig {
  // Lifecycle.
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  // Storage.
  /** `-v`: "/host:/ctr[:opts]", "name:/ctr[:opts]", or "/ctr" (anonymous volume). */
  Binds?: string[];
  Mounts?: MountSpec[];
  /** `--tmpfs /path[:opts]`: path → options ("size=64m,mode=1777"). */
  Tmpfs?: Record<string, string>;
  ReadonlyRootfs?: boolean;
  // Resources (cgroups) and limits.
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpusetCpus?: string;
  PidsLimit?: number;
  Ulimits?: Ulimit[];
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Devices?: DeviceMapping[];
  // Security.
  CapAdd?: string[];
  CapDrop?: string[];
  Privileged?: boolean;
  SecurityOpt?: string[];
  Init?: boolean;
  UsernsMode?: string;
  // Network.
  /** 'bridge' (the default), 'none', 'host'. */
  NetworkMode?: string;
  /** `-p`: "80/tcp" → where on the host it is published. */
  PortBindings?: Record<string, PortBinding[]>;
  /** `-P`: every exposed port, on a free host port. */
  PublishAllPorts?: boolean;
}

export interface PortBinding { HostIp: string; HostPort: string }

/** Docker's container Config, with HostConfig: what `create` takes. */
export interface CreateBody {
  Image: string;
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Env?: string[];
  Cmd?: string[];
  /** undefined: the image's; [] (from `--entrypoint ""`): none. */
  Entrypoint?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** Seconds. */
  StopTimeout?: number;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Healthcheck?: HealthConfig;
  /** `--expose` and the image's EXPOSE: "80/tcp" → {}. */
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig?: HostConfig;
}

/** Docker's default stop timeout, in seconds. */
export const DEFAULT_STOP_TIMEOUT = 10;
