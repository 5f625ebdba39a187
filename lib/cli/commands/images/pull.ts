/**
 * `ts-container pull`, and the pull that `run IMAGE` makes when the image is missing (docker's
 * --pull missing): progress on stderr for run, on stdout for pull as docker prints it.
 */
import type { Image, ImageStore } from '../../../images/image-store';
import type { PullCommand, PullPolicy } from '../../parsed';
import { onInterrupt, type CommandIO } from '../common';
import { PullProgressView, type ProgressOutput } from './pull-progress';
import { hexId, openImageStore, reportImageFailure } from './store';

/** Pulls `reference` with progress shown on `progress` (none when undefined); Ctrl-C aborts it. */
export async function pullWithProgress(
  store: ImageStore,
  reference: string,
  io: CommandIO,
  progress: ProgressOutput | undefined,
  platform?: string,
): Promise<Image> {
  const view = progress === undefined ? undefined : new PullProgressView(progress);
  const controller = new AbortController();
  const stop = onInterrupt(io, () => controller.abort());
  try {
    return await store.pull(reference, {
      signal: controller.signal,
      ...(view && { onProgress: view.onEvent }),
      ...(platform !== undefined && { platform }),
    });
  } finally {
    stop();
    view?.end();
  }
}

export async function pullCommand(cmd: PullCommand, io: CommandIO): Promise<number> {
  try {
    const store = openImageStore(cmd.dataRoot);
    if (!cmd.quiet) io.stdout.write(`Pulling ${cmd.reference}\n`);
    const image = await pullWithProgress(store, cmd.reference, io, cmd.quiet ? undefined : (io.stdout as ProgressOutput), cmd.platform);
    if (cmd.quiet) {
      io.stdout.write(`${hexId(image.id)}\n`);
    } else {
      io.stdout.write(`Digest: ${image.digest}\n${image.references.join('\n')}\nImage id: ${hexId(image.id)}\n`);
    }
    return 0;
  } catch (err) {
    return reportImageFailure(io, err);
  }
}

/**
 * Makes sure the image `run` names is in the store, as docker's --pull: 'missing' pulls it when
 * inspect finds nothing, 'always' pulls anyway, 'never' leaves the library to say it is missing.
 */
export async function ensureImage(reference: string, dataRoot: string | undefined, policy: PullPolicy, io: CommandIO): Promise<void> {
  if (policy === 'never') return;
  const store = openImageStore(dataRoot);
  if (policy === 'missing') {
    try {
      await store.inspect(reference);
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOIMAGE') throw err;
    }
    io.stderr.write(`Unable to find image '${reference}' locally\n`);
  }
  await pullWithProgress(store, reference, io, io.stderr as ProgressOutput);
}
