// HostConfig's resources, limits and security options turned into the OCI
// spec: cgroup limits, rlimits, capabilities, seccomp, sysctls, devices,
// read-only root, init, user namespace. (Filled in by the run-options work.)
import type { Spec } from '../runtime/spec.js';
import type { HostConfig } from './host-config.js';

export interface HostOptionsContext {
  /** The container's mounted root filesystem. */
  rootfs: string;
  warn: (message: string) => void;
}

/** Apply `hc` to a spec made by containerSpec(); throws a BerthError on a bad value. */
export function applyHostConfig(spec: Spec, hc: HostConfig, ctx: HostOptionsContext): void {
  void spec; void hc; void ctx;
}
