import type { Command } from 'commander';
import { errnoCode, invalid } from '../../util/errors.js';
import { copyFromContainer, copyToContainer } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { failAsDocker } from './lookup.js';

/** Docker's reading of a cp argument: `CONTAINER:PATH`, unless it is a local path (absolute, or starting with '.', or without ':'). */
function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

export function registerCp(parent: Command, ctx: CliContext): Command {
  return parent.command('cp')
    .description('copy files between a container and the host (- reads or writes a tar stream)')
    .usage('[options] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [options] SRC_PATH|- CONTAINER:DEST_PATH')
    .argument('<source>', 'CONTAINER:SRC_PATH, SRC_PATH, or - for a tar on stdin')
    .argument('<destination>', 'CONTAINER:DEST_PATH, DEST_PATH, or - for a tar on stdout')
    .option('-a, --archive', 'archive mode: keep the source\'s uid/gid')
    .option('-L, --follow-link', 'follow a symbolic link SRC_PATH')
    .option('-q, --quiet', 'print nothing (berth prints no progress anyway)')
    .action(async (source: string, destination: string, opts: { archive?: boolean; followLink?: boolean }) => {
      const from = source === '-' ? { path: '-' } : splitCpArg(source);
      const to = destination === '-' ? { path: '-' } : splitCpArg(destination);
      if (from.container !== undefined && to.container !== undefined) throw invalid('CopyBetweenContainers', 'copying between containers is not supported');
      if (from.container === undefined && to.container === undefined) throw invalid('NoContainer', 'must specify at least one container source');
      const flags = { archive: opts.archive ?? false, followLink: opts.followLink ?? false };
      try {
        if (from.container !== undefined) {
          if (from.container === '' || from.path === '') throw invalid('InvalidPath', `invalid source "${source}": CONTAINER:SRC_PATH needs both`);
          await copyFromContainer(ctx.engine(), from.container, from.path, to.path === '-' ? process.stdout : to.path, flags);
        } else {
          if (to.container === '' || to.path === '') throw invalid('InvalidPath', `invalid destination "${destination}": CONTAINER:DEST_PATH needs both`);
          if (from.path === '-' && process.stdin.isTTY) throw invalid('StdinIsTerminal', 'cp: a tar archive is expected on stdin, but it is a terminal');
          await copyToContainer(ctx.engine(), from.path === '-' ? process.stdin : from.path, to.container!, to.path, flags);
        }
      } catch (err) {
        // A reader that went away (`berth export c | head`) ends the command quietly.
        if (errnoCode(err) === 'EPIPE' || errnoCode((err as Error).cause) === 'EPIPE') return;
        failAsDocker(err);
      }
    });
}
