/**
 * The image commands of `ts-container`, as docker names them: pull, images, rmi, tag, save,
 * load, push, inspect. Each works on the image store of the data root (global --data-root DIR);
 * references, ids and archive formats are the library's to check (ImageStore).
 */
import { UsageError, type CommandName } from '../usage-error';
import { listFormat, type CommandDef } from './commands';
import type { FlagDef } from './flag';
import * as v from './values';

const STORE_NOTE = `Images live in the data root (global --data-root DIR, or $TS_CONTAINER_DATA_ROOT;
default /var/lib/ts-container for root, $XDG_DATA_HOME/ts-container otherwise).`;

const QUIET_PULL: FlagDef = { names: ['-q', '--quiet'], help: "Print only the image's id (64 hex digits), no progress", target: 'cli:quiet' };

/** Exactly `count` arguments, named in the usage line. */
function args(command: CommandName, given: string[], names: readonly string[], optional = 0): string[] {
  const min = names.length - optional;
  if (given.length < min || given.length > names.length) {
    throw new UsageError(
      `${command}: expected ${names.join(' ')}, got ${given.length === 0 ? 'nothing' : given.join(' ')} (usage: ts-container ${command} ${names.join(' ')})`,
      undefined,
      command,
    );
  }
  return given;
}

export const IMAGE_COMMANDS: readonly CommandDef[] = [
  {
    name: 'pull',
    summary: 'Pull an image from a registry',
    usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
    description: `Pull an image from its registry into the image store: each layer is verified and
unpacked once. A short name is looked up in the search registries of
registries.json in the data root. On a terminal each layer shows a progress bar;
otherwise one line per layer and phase. Prints the image's id at the end.`,
    footer: STORE_NOTE,
    flags: [
      QUIET_PULL,
      { names: ['--platform'], value: 'OS/ARCH[/VARIANT]', help: "The platform to pull from a multi-platform image (default: this machine's)", target: 'cli:platform', convert: v.text },
    ],
    build(flags, given) {
      const [reference] = args('pull', given, ['NAME']);
      return {
        kind: 'pull',
        reference,
        quiet: flags.cli.quiet === true,
        ...(flags.cli.platform !== undefined && { platform: flags.cli.platform as string }),
      };
    },
  },
  {
    name: 'images',
    summary: 'List images',
    usage: '[OPTIONS]',
    description: 'List the images of the image store: each reference with its id, age and size.',
    footer: STORE_NOTE,
    flags: [
      { names: ['--json'], help: 'Print the images as a JSON array (as ImageStore.list() gives them)', target: 'cli:json' },
      { names: ['-q', '--quiet'], help: 'Print only the image ids', target: 'cli:quiet' },
    ],
    build: (flags, given) => ({ kind: 'images', format: listFormat('images', flags, given) }),
  },
  {
    name: 'rmi',
    summary: 'Remove images',
    usage: '[OPTIONS] IMAGE...',
    description: `Remove each image reference; an image whose last reference goes is deleted,
with the layers no other image uses. An image a container uses is refused
unless -f is given. Prints what was untagged and deleted.`,
    footer: STORE_NOTE,
    flags: [{ names: ['-f', '--force'], help: 'Remove the reference even while containers use the image (their layers stay until they go)', target: 'cli:force' }],
    build(flags, given) {
      if (given.length === 0) throw new UsageError('rmi: no image given (usage: ts-container rmi IMAGE...)', undefined, 'rmi');
      return { kind: 'rmi', references: given, force: flags.cli.force === true };
    },
  },
  {
    name: 'tag',
    summary: 'Give an image another reference',
    usage: 'SOURCE TARGET',
    description: 'Add the reference TARGET to the image SOURCE (a reference or an id).',
    footer: STORE_NOTE,
    flags: [],
    build(_flags, given) {
      const [source, target] = args('tag', given, ['SOURCE', 'TARGET']);
      return { kind: 'tag', source, target };
    },
  },
  {
    name: 'save',
    summary: 'Write an image to an archive',
    usage: '[OPTIONS] -o FILE IMAGE',
    description: 'Write the image to a tar archive, as docker save (default) or as an OCI archive.',
    footer: STORE_NOTE,
    flags: [
      { names: ['-o', '--output'], value: 'FILE', help: 'The archive to write', target: 'cli:output', convert: v.hostPath },
      { names: ['--format'], value: 'FORMAT', help: 'docker-archive (default) or oci-archive', target: 'cli:format', convert: v.text },
    ],
    build(flags, given) {
      const [reference] = args('save', given, ['IMAGE']);
      const output = flags.cli.output as string | undefined;
      if (output === undefined) throw new UsageError('save: -o FILE is required (the archive is not written to a terminal)', '-o', 'save');
      const format = (flags.cli.format as string | undefined) ?? 'docker-archive';
      if (format !== 'docker-archive' && format !== 'oci-archive') {
        throw new UsageError(`--format: expected docker-archive or oci-archive, got '${format}'`, '--format', 'save');
      }
      return { kind: 'save', reference, output, format };
    },
  },
  {
    name: 'load',
    summary: 'Load images from an archive',
    usage: '[OPTIONS] -i FILE',
    description: `Load the images of an archive: docker save's, an OCI archive, or an OCI layout
directory. Prints each image loaded.`,
    footer: STORE_NOTE,
    flags: [
      { names: ['-i', '--input'], value: 'FILE', help: 'The archive or OCI layout directory to read', target: 'cli:input', convert: v.hostPath },
      { names: ['-q', '--quiet'], help: 'Print only the ids of the images loaded', target: 'cli:quiet' },
    ],
    build(flags, given) {
      if (given.length > 0) throw new UsageError(`load: takes no arguments, got '${given[0]}' (usage: ts-container load -i FILE)`, undefined, 'load');
      const input = flags.cli.input as string | undefined;
      if (input === undefined) throw new UsageError('load: -i FILE is required (the archive is not read from a terminal)', '-i', 'load');
      return { kind: 'load', input, quiet: flags.cli.quiet === true };
    },
  },
  {
    name: 'push',
    summary: 'Push an image to a registry',
    usage: '[OPTIONS] IMAGE [DESTINATION]',
    description: `Push IMAGE to the registry its reference names, or to DESTINATION (a full
reference, as podman push takes it). Prints the manifest's digest.`,
    footer: STORE_NOTE,
    flags: [{ names: ['-q', '--quiet'], help: 'Print only the digest', target: 'cli:quiet' }],
    build(flags, given) {
      const [source, target] = args('push', given, ['IMAGE', 'DESTINATION'], 1);
      return { kind: 'push', source, ...(target !== undefined && { target }), quiet: flags.cli.quiet === true };
    },
  },
  {
    name: 'inspect',
    summary: 'Show an image or a container as JSON',
    usage: '[OPTIONS] NAME...',
    description: `Print a JSON array with one entry per NAME: a container of the state directory
of that id, else an image of that reference or id (as docker inspect).`,
    footer: `${STORE_NOTE}\nExits 1 when a NAME is neither.`,
    flags: [{ names: ['--type'], value: 'image|container', help: 'Look only among images or only among containers', target: 'cli:type', convert: v.text }],
    build(flags, given) {
      if (given.length === 0) throw new UsageError('inspect: no name given (usage: ts-container inspect NAME...)', undefined, 'inspect');
      const type = flags.cli.type as string | undefined;
      if (type !== undefined && type !== 'image' && type !== 'container') {
        throw new UsageError(`--type: expected image or container, got '${type}'`, '--type', 'inspect');
      }
      return { kind: 'inspect', names: given, ...(type !== undefined && { type }) };
    },
  },
];
