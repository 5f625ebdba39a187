/** A container's health as health.json records it, for state(), list() and health() of any process. */
import type { ContainerDirectory } from '../state/container-directory';
import { checkHealthRecord, healthOf, type ContainerHealth } from './health-state';

/** undefined when no check has run (none configured, or not started yet) or the file cannot be read. */
export async function recordedHealth(directory: ContainerDirectory): Promise<ContainerHealth | undefined> {
  try {
    const record = checkHealthRecord(await directory.readHealthAsync());
    return record ? healthOf(record, true) : undefined;
  } catch {
    // Removed meanwhile, or a foreign file: nothing to show, not a failure of the caller's.
    return undefined;
  }
}
