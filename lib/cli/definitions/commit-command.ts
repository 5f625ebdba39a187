/**
 * `ts-container commit [OPTIONS] CONTAINER REFERENCE`, as docker commit: the container's
 * changes as a new image. `--change` takes docker's Dockerfile-like instructions (CMD,
 * ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL); they become the library's `changes`.
 */
import type { CommitChanges } from '../../images/commit-changes';
import { UsageError } from '../usage-error';
import type { CommandDef } from './commands';
import * as v from './values';

function fail(message: string): never {
  throw new UsageError(`commit: ${message}`, '--change', 'commit');
}

/** `["a","b"]` (exec form) or `a b` (shell form: run by /bin/sh -c, as docker does). */
function commandForm(text: string): string[] {
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      fail(`not a JSON array of strings: ${text}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) fail(`not a JSON array of strings: ${text}`);
    return parsed as string[];
  }
  return ['/bin/sh', '-c', text];
}

/** KEY=VALUE pairs; a value may be double-quoted. */
function pairs(text: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  let rest = text;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push([m[1] as string, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[2] as string)]);
    rest = rest.replace(m[0], '');
  }
  if (out.length === 0 || rest.trim() !== '') fail(`expected KEY=VALUE pairs: ${text}`);
  return out;
}

export function parseChangeInstructions(lines: readonly string[]): CommitChanges {
  const changes: CommitChanges = {};
  for (const line of lines) {
    const m = /^\s*(\w+)\s+(.*\S)\s*$/s.exec(line);
    if (!m) fail(`expected "INSTRUCTION ARGUMENTS": ${JSON.stringify(line)}`);
    const [, word, text] = m as unknown as [string, string, string];
    switch (word.toUpperCase()) {
      case 'CMD':
        changes.Cmd = commandForm(text);
        break;
      case 'ENTRYPOINT':
        changes.Entrypoint = commandForm(text);
        break;
      case 'ENV':
        changes.Env = [...(changes.Env ?? []), ...pairs(text).map(([k, v]) => `${k}=${v}`)];
        break;
      case 'LABEL':
        changes.Labels = { ...changes.Labels, ...Object.fromEntries(pairs(text)) };
        break;
      case 'WORKDIR':
        changes.WorkingDir = text;
        break;
      case 'USER':
        changes.User = text;
        break;
      case 'EXPOSE':
        changes.ExposedPorts = [...((changes.ExposedPorts as string[] | undefined) ?? []), ...text.split(/\s+/)];
        break;
      default:
        fail(`${word}: not an instruction commit takes (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL)`);
    }
  }
  return changes;
}

export const COMMIT_COMMAND: CommandDef = {
  name: 'commit',
  summary: "Make a new image from a container's changes",
  usage: '[OPTIONS] CONTAINER REFERENCE',
  description: `Store the files container CONTAINER changed (its writable layer) as a new image
REFERENCE over the image (or rootfs directory) it was made from. An unqualified REFERENCE
becomes localhost/NAME:TAG. The container is paused while its layer is read. Prints the
new image's id.`,
  footer: `Example:
  ts-container commit -m "add curl" -c 'CMD ["sh"]' web mytool:1`,
  flags: [
    { names: ['-m', '--message'], value: 'TEXT', help: "The history entry's comment", target: 'call:commit.message', convert: v.text },
    { names: ['-a', '--author'], value: 'NAME', help: 'The author recorded in the image', target: 'call:commit.author', convert: v.text },
    { names: ['-c', '--change'], value: 'INSTRUCTION', help: 'CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE or LABEL, as in a Dockerfile (repeatable)', target: 'call:commit.changes[]', convert: v.text },
    { names: ['--no-pause'], help: 'Do not pause the container while its layer is read', target: 'call:commit.pause', switchValue: false },
  ],
  build: (flags, args) => {
    if (args.length !== 2) throw new UsageError(`commit: expected CONTAINER and REFERENCE, got ${args.length} argument${args.length === 1 ? '' : 's'}`, undefined, 'commit');
    const call = (flags.call.commit ?? {}) as { message?: string; author?: string; changes?: string[]; pause?: boolean };
    return {
      kind: 'commit',
      id: args[0] as string,
      reference: args[1] as string,
      changes: parseChangeInstructions(call.changes ?? []),
      pause: call.pause !== false,
      ...(call.message !== undefined ? { message: call.message } : {}),
      ...(call.author !== undefined ? { author: call.author } : {}),
    };
  },
};
