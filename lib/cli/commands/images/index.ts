/** Runs a parsed image command; loaded by main.ts only for these commands. */
import type { ImageCommand } from '../../parsed';
import { defaultIO, type CommandIO } from '../common';
import { loadCommand, pushCommand, rmiCommand, saveCommand, tagCommand } from './edit';
import { inspectCommand } from './inspect';
import { imagesCommand } from './list';
import { pullCommand } from './pull';

export { ensureImage } from './pull';

/** Resolves to the CLI's exit status; failures are reported on stderr, never thrown. */
export function runImageCommand(cmd: ImageCommand, io: Partial<CommandIO> = {}): Promise<number> {
  const out = defaultIO(io);
  switch (cmd.kind) {
    case 'pull':
      return pullCommand(cmd, out);
    case 'images':
      return imagesCommand(cmd, out);
    case 'rmi':
      return rmiCommand(cmd, out);
    case 'tag':
      return tagCommand(cmd, out);
    case 'save':
      return saveCommand(cmd, out);
    case 'load':
      return loadCommand(cmd, out);
    case 'push':
      return pushCommand(cmd, out);
    case 'inspect':
      return inspectCommand(cmd, out);
  }
}
