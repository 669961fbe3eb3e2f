// `berth runtime …`: the OCI runtime command line, following the contract
// runc defines so that other engines and the OCI test suites can drive berth.
import { Command } from 'commander';
import { Runtime, DEFAULT_RUNTIME_ROOT } from '../../runtime/container.js';
import { registerCreate } from './create.js';
import { registerStart } from './start.js';
import { registerState } from './state.js';
import { registerKill } from './kill.js';
import { registerDelete } from './delete.js';
import { registerRun } from './run.js';
import { registerExec } from './exec.js';
import { registerSpec } from './spec.js';
import { registerFeatures } from './features.js';
import { registerPlan } from './plan.js';
import { registerList } from './list.js';
import { registerPauseResume } from './pause.js';
import { registerPs } from './ps.js';
import { registerUpdate } from './update.js';
import { parseLogFormat, setRuntimeLog, type LogFormat } from './log.js';
import { invalid } from '../../util/errors.js';

export interface RuntimeContext {
  runtime(): Runtime;
  root(): string;
}

export function registerRuntime(program: Command): void {
  const cmd = program
    .command('runtime')
    .description('the OCI runtime: run an OCI bundle (rootfs + config.json) as a container, as runc does')
    .option('--root <dir>', 'directory for container state', DEFAULT_RUNTIME_ROOT)
    .option('--log <file>', 'also write errors to this file, as runc does (engines read them there)')
    .option('--log-format <format>', 'text or json, as runc\'s', parseLogFormat, 'text' as LogFormat)
    .option('--systemd-cgroup', 'use the systemd cgroup driver (refused: berth has only the cgroupfs one)')
    .enablePositionalOptions()
    .hook('preAction', () => {
      const opts = cmd.opts<{ log?: string; logFormat: LogFormat; systemdCgroup?: boolean }>();
      setRuntimeLog(opts.log, opts.logFormat);
      if (opts.systemdCgroup) {
        throw invalid('SystemdCgroupUnsupported', '--systemd-cgroup: berth has no systemd cgroup driver; run the engine with cgroupfs (containerd: SystemdCgroup = false; podman: --cgroup-manager cgroupfs)');
      }
    });
  const ctx: RuntimeContext = {
    root: () => cmd.opts<{ root: string }>().root,
    runtime: () => new Runtime(cmd.opts<{ root: string }>().root),
  };
  for (const register of [registerCreate, registerStart, registerState, registerKill, registerDelete, registerRun, registerExec, registerSpec, registerFeatures, registerPlan, registerList, registerPauseResume, registerPs, registerUpdate]) {
    register(cmd, ctx);
  }
}
