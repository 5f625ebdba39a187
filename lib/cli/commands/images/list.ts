/** `ts-container images`: the images of the store, as a table, JSON or ids. */
import type { Image } from '../../../images/image-store';
import type { ImagesCommand } from '../../parsed';
import type { CommandIO } from '../common';
import { formatTable, relativeTime } from '../format';
import { hexId, openImageStore, reportImageFailure } from './store';

function humanSize(bytes: number): string {
  if (bytes < 1e3) return `${bytes}B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)}kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)}MB`;
  return `${(bytes / 1e9).toFixed(2)}GB`;
}

/** REPOSITORY, TAG, IMAGE ID, CREATED, SIZE: one row per reference (an untagged image: one row of <none>). */
export function formatImageList(images: readonly Image[], now: Date): string {
  const rows: string[][] = [];
  for (const image of images) {
    const id = hexId(image.id).slice(0, 12);
    const when = relativeTime(image.created ?? image.added, now);
    const size = humanSize(image.size);
    if (image.references.length === 0) rows.push(['<none>', '<none>', id, when, size]);
    for (const ref of image.references) {
      const at = ref.indexOf('@');
      const colon = ref.lastIndexOf(':');
      const [repo, tag] = at >= 0 ? [ref.slice(0, at), '<none>'] : colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
      rows.push([repo, tag, id, when, size]);
    }
  }
  return formatTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows);
}

export async function imagesCommand(cmd: ImagesCommand, io: CommandIO): Promise<number> {
  let images: Image[];
  try {
    images = await openImageStore(cmd.dataRoot).list();
  } catch (err) {
    return reportImageFailure(io, err);
  }
  images.sort((a, b) => b.added.localeCompare(a.added));
  switch (cmd.format) {
    case 'json':
      io.stdout.write(`${JSON.stringify(images, null, 2)}\n`);
      break;
    case 'ids':
      io.stdout.write(images.map((i) => `${hexId(i.id).slice(0, 12)}\n`).join(''));
      break;
    case 'table':
      io.stdout.write(formatImageList(images, new Date()));
      break;
  }
  return 0;
}
