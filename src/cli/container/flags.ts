// `run` and `create` share their flags. Each group declares its flags on a
// command and writes what they say into Docker's create body; run.ts and
// create.ts just add every group.
import type { Command } from 'commander';
import type { CreateBody } from '../../engine/index.js';

export type ParsedFlags = Record<string, unknown>;

export interface FlagGroup {
  add(cmd: Command): Command;
  /** Write the parsed flags into `body` (and `body.HostConfig`); throw invalid(...) on a bad value. */
  apply(opts: ParsedFlags, body: CreateBody): void;
}

/** The HostConfig of `body`, created if missing. */
export function hostConfigOf(body: CreateBody): NonNullable<CreateBody['HostConfig']> {
  body.HostConfig ??= {};
  return body.HostConfig;
}
