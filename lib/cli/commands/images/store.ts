/**
 * What the image commands share: the image store of the data root, and how an image failure
 * becomes a message and an exit status.
 */
import { ImageStore } from '../../../images/image-store';
import { EXIT_RUNTIME_ERROR } from '../../parsed';
import { report, type CommandIO } from '../common';

/** One layer's progress as ImageStore.pull reports it. */
export type { PullProgress as PullProgressEvent } from '../../../images/pull';

/** The exit status of an image that is not there or is in use: 1, as docker's. */
export const EXIT_IMAGE_ERROR = 1;

/** The store of `dataRoot` (undefined: the library's default); throws its TypeError for a bad root. */
export function openImageStore(dataRoot: string | undefined): ImageStore {
  return new ImageStore(dataRoot === undefined ? {} : { root: dataRoot });
}

/** The 64 hex digits of an image id (`sha256:` dropped), as docker's --quiet prints it. */
export function hexId(id: string): string {
  return id.replace(/^sha256:/, '');
}

const IMAGE_ERROR_CODES = new Set(['ENOIMAGE', 'EIMAGEINUSE']);

/** Reports a failure on stderr: 1 for a missing or in-use image, 125 for anything else. */
export function reportImageFailure(io: CommandIO, err: unknown): number {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  report(io, err instanceof TypeError ? `invalid argument: ${message}` : message);
  return typeof code === 'string' && IMAGE_ERROR_CODES.has(code) ? EXIT_IMAGE_ERROR : EXIT_RUNTIME_ERROR;
}
