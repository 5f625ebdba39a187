/**
 * Manifests, indexes and configs from a registry are read with the store's one model
 * (manifest.ts), whose refusals are ImageArchiveErrors. A pull or push speaks of registries:
 * the same refusal becomes a RegistryError (status 200: the registry answered, with a
 * document that is not usable), the model's error kept as its cause.
 */
import { ImageArchiveError, RegistryError } from '../../errors/errors';

export function asRegistryDocument<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ImageArchiveError) throw new RegistryError(error.message, 200, { cause: error });
    throw error;
  }
}
