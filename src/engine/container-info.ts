// A container as the engine shows it: its record from the embedded store,
// with the status derived from what the runtime and the kernel say now. Every
// face (CLI, API) and every engine module reads containers through this shape.
import { join } from 'node:path';
import type { CreateBody } from './host-config.js';

/** Docker's statuses (`State.Status`). */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthLogEntry { Start: string; End: string; ExitCode: number; Output: string }
export interface HealthState { Status: 'starting' | 'healthy' | 'unhealthy' | 'none'; FailingStreak: number; Log: HealthLogEntry[] }

/** Docker's `State` object. */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  /** The container's init process in the host's PID namespace; 0 unless running. */
  Pid: number;
  ExitCode: number;
  /** Why the container ended other than by its own exit (its monitor died, the host restarted…). */
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export interface ContainerInfo {
  id: string;
  /** Without Docker's leading '/'. */
  name: string;
  /** The image as the user named it. */
  image: string;
  /** The image's config digest ("sha256:…"). */
  imageId: string;
  created: string;
  body: CreateBody;
  state: ContainerState;
  restartCount: number;
  /** The container's directory: <root>/containers/<id>. */
  dir: string;
  /** What it runs: the image's Entrypoint and Cmd merged with the flags. */
  command: string[];
  /** The container's runtime (OCI) id: the same as its id. */
  runtimeId: string;
  /** Cgroup path, relative to each hierarchy's root. */
  cgroupsPath: string;
}

/** Where things of a container live, under its directory. */
export const containerPaths = (dir: string, id: string) => ({
  /** The merged overlay view: mounted while the container runs. */
  rootfs: join(dir, 'rootfs'),
  /** What the container changed (overlay's upper dir). */
  upper: join(dir, 'upper'),
  bundle: join(dir, 'bundle'),
  config: join(dir, 'bundle', 'config.json'),
  /** Docker's json-file log. */
  log: join(dir, `${id}-json.log`),
  hostname: join(dir, 'hostname'),
  hosts: join(dir, 'hosts'),
  resolvConf: join(dir, 'resolv.conf'),
});
