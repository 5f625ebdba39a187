/** `ts-container list` (`ls`): every container of the state directory, as a table, JSON or ids. */
import { Container } from '../../container/container';
import type { ContainerListEntry } from '../../state/types';
import type { ListCommand } from '../parsed';
import { EXIT_RUNTIME_ERROR } from '../parsed';
import { report, type CommandIO } from './common';
import { formatContainerList } from './format';

export async function listCommand(cmd: ListCommand, io: CommandIO): Promise<number> {
  let entries: ContainerListEntry[];
  try {
    entries = await Container.list(cmd.stateRoot === undefined ? {} : { stateRoot: cmd.stateRoot });
  } catch (err) {
    report(io, `cannot list containers: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_RUNTIME_ERROR;
  }
  // Oldest first, as they were made; entries without a readable state go last.
  const created = (e: ContainerListEntry): number => (e.error === undefined ? Date.parse(e.created) : Infinity);
  entries = [...entries].sort((a, b) => created(a) - created(b) || a.id.localeCompare(b.id));
  switch (cmd.format) {
    case 'json':
      io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      break;
    case 'ids':
      io.stdout.write(entries.map((e) => `${e.id}\n`).join(''));
      break;
    case 'table':
      io.stdout.write(formatContainerList(entries, new Date()));
      break;
  }
  return 0;
}
