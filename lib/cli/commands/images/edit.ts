/** `ts-container rmi`, `tag`, `save`, `load`, `push`: one store call each, with docker's output. */
import type { LoadCommand, PushCommand, RmiCommand, SaveCommand, TagCommand } from '../../parsed';
import type { CommandIO } from '../common';
import { hexId, openImageStore, reportImageFailure } from './store';

export async function rmiCommand(cmd: RmiCommand, io: CommandIO): Promise<number> {
  let status = 0;
  for (const reference of cmd.references) {
    try {
      const store = openImageStore(cmd.dataRoot);
      const { untagged, deleted } = await store.remove(reference, { force: cmd.force });
      io.stdout.write([...untagged.map((r) => `Untagged: ${r}`), ...deleted.map((id) => `Deleted: ${id}`)].map((l) => `${l}\n`).join(''));
    } catch (err) {
      // As docker rmi: one failure does not stop the others; the status is the first failure's.
      const code = reportImageFailure(io, err);
      if (status === 0) status = code;
    }
  }
  return status;
}

export async function tagCommand(cmd: TagCommand, io: CommandIO): Promise<number> {
  try {
    await openImageStore(cmd.dataRoot).tag(cmd.source, cmd.target);
    return 0;
  } catch (err) {
    return reportImageFailure(io, err);
  }
}

export async function saveCommand(cmd: SaveCommand, io: CommandIO): Promise<number> {
  try {
    await openImageStore(cmd.dataRoot).export(cmd.reference, cmd.output, { format: cmd.format });
    return 0;
  } catch (err) {
    return reportImageFailure(io, err);
  }
}

export async function loadCommand(cmd: LoadCommand, io: CommandIO): Promise<number> {
  try {
    const images = await openImageStore(cmd.dataRoot).import(cmd.input);
    const lines = images.flatMap((image) =>
      cmd.quiet ? [hexId(image.id)] : image.references.length > 0 ? image.references.map((r) => `Loaded image: ${r}`) : [`Loaded image ID: ${image.id}`],
    );
    io.stdout.write(lines.map((l) => `${l}\n`).join(''));
    return 0;
  } catch (err) {
    return reportImageFailure(io, err);
  }
}

export async function pushCommand(cmd: PushCommand, io: CommandIO): Promise<number> {
  try {
    const { digest } = await openImageStore(cmd.dataRoot).push(cmd.source, cmd.target);
    io.stdout.write(cmd.quiet ? `${digest}\n` : `Pushed ${cmd.target ?? cmd.source}\nDigest: ${digest}\n`);
    return 0;
  } catch (err) {
    return reportImageFailure(io, err);
  }
}
