/**
 * Which images and layers containers use: each container with a writable layer keeps a record
 * at <dataRoot>/containers/<id>.json (written by the container's create, removed with it),
 * naming its lower layer directories and, for a container of an image, the image. The
 * store's remove and prune consult these, whatever state root the container lives in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ContainerUse {
  id: string;
  /** The overlay's lower directories, top first. */
  lowerDirs: string[];
  /** The image's id or manifest digest, when the record names one. */
  image?: string;
}

const RECORD_SUFFIX = '.json';

/**
 * The records under the data root. A record that cannot be read is taken as a use of nothing
 * known; one being written is read whole or not at all (records are renamed into place).
 */
export async function containerUses(dataRoot: string): Promise<ContainerUse[]> {
  const dir = path.join(dataRoot, 'containers');
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const uses: ContainerUse[] = [];
  for (const name of names) {
    if (!name.endsWith(RECORD_SUFFIX) || name.startsWith('.')) continue;
    let record: { id?: unknown; lowerDirs?: unknown; image?: unknown };
    try {
      record = JSON.parse(await fs.promises.readFile(path.join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    const id = typeof record.id === 'string' ? record.id : name.slice(0, -RECORD_SUFFIX.length);
    const lowerDirs = Array.isArray(record.lowerDirs) ? record.lowerDirs.filter((d): d is string => typeof d === 'string') : [];
    // The image: its manifest digest (a record may name it as a string, or as { id, digest, reference }).
    const image = typeof record.image === 'string' ? record.image : (record.image as { digest?: unknown } | null)?.digest;
    uses.push({ id, lowerDirs, ...(typeof image === 'string' ? { image } : {}) });
  }
  return uses;
}
