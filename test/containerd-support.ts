// A containerd of a test's (or a benchmark's) own: its root, state and
// sockets under the given directory, only the plugins `ctr run` needs, and
// nothing of the host's containerd touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Start containerd with root and state under `dataDir`, serving on `address`; its config is written into `configDir`. */
export function startContainerd(opts: { configDir: string; dataDir: string; address: string }): ChildProcess {
  const config = join(opts.configDir, 'containerd.toml');
  writeFileSync(config, `version = 2
root = "${opts.dataDir}/root"
state = "${opts.dataDir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "${opts.address}"
[ttrpc]
  address = "${opts.address}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
`);
  return spawn('containerd', ['--config', config], { stdio: 'ignore' });
}
