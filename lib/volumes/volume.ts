/**
 * Named volumes: a directory of the data root that outlives the containers mounting it
 * (`mounts: [{ type: 'volume', source: NAME, target: PATH }]`), made on first use or by
 * Volume.create(), and deleted only by remove() (or a stack's down({ volumes: true })).
 */
import * as fs from 'node:fs';
import { VolumeInUseError, VolumeNotFoundError } from '../errors/errors';
import { fail } from '../options/option-error';
import { ensureVolume, isVolumeName, listVolumeNames, liveUses, removeVolumeFiles, sweepAnonymous, volumeDataRoot, volumeExists, volumePath, withVolumesLock } from './volume-store';

export interface VolumeOptions {
  /** The data root the volume lives in; default as the container option `dataRoot`. */
  dataRoot?: string;
}

function checkName(name: unknown): string {
  if (!isVolumeName(name)) fail('name', `expected a volume name (a letter or digit, then letters, digits, '_', '.', '-'; at most 128), got ${JSON.stringify(name)}`);
  return name;
}

export class Volume {
  readonly name: string;
  /** The directory on the host that containers mount. */
  readonly mountpoint: string;
  /** When its directory was made. */
  readonly createdAt: Date;
  /** The ids of the containers that mount it (running or stopped, not yet deleted), when this object was read. */
  readonly containers: string[];
  readonly #dataRoot: string;

  private constructor(dataRoot: string, name: string, containers: string[]) {
    this.#dataRoot = dataRoot;
    this.name = name;
    this.mountpoint = volumePath(dataRoot, name);
    this.createdAt = fs.statSync(this.mountpoint).birthtime;
    this.containers = containers;
  }

  /** Makes the volume; one that exists already is returned as it is (as `docker volume create`). */
  static async create(name: string, options?: VolumeOptions): Promise<Volume> {
    checkName(name);
    const dataRoot = volumeDataRoot(options?.dataRoot);
    return withVolumesLock(dataRoot, async () => {
      ensureVolume(dataRoot, name);
      return new Volume(dataRoot, name, liveUses(dataRoot, name));
    });
  }

  /** Every volume of the data root, by name. */
  static async list(options?: VolumeOptions): Promise<Volume[]> {
    const dataRoot = volumeDataRoot(options?.dataRoot);
    return withVolumesLock(dataRoot, async () => {
      sweepAnonymous(dataRoot);
      return listVolumeNames(dataRoot).map((name) => new Volume(dataRoot, name, liveUses(dataRoot, name)));
    });
  }

  /** VolumeNotFoundError when the data root holds none of that name. */
  static async get(name: string, options?: VolumeOptions): Promise<Volume> {
    const dataRoot = volumeDataRoot(options?.dataRoot);
    if (!isVolumeName(name) || !volumeExists(dataRoot, name)) throw new VolumeNotFoundError(String(name));
    return withVolumesLock(dataRoot, async () => new Volume(dataRoot, name, liveUses(dataRoot, name)));
  }

  /** Volume.get(name).remove(). */
  static async remove(name: string, options?: VolumeOptions): Promise<void> {
    return (await Volume.get(name, options)).remove();
  }

  /**
   * Deletes the volume and its data. Refused (VolumeInUseError) while a container mounts it,
   * running or stopped: delete the container first, as docker asks.
   */
  async remove(): Promise<void> {
    const dataRoot = this.#dataRoot;
    await withVolumesLock(dataRoot, async () => {
      if (!volumeExists(dataRoot, this.name)) throw new VolumeNotFoundError(this.name);
      const users = liveUses(dataRoot, this.name);
      if (users.length > 0) throw new VolumeInUseError(this.name, users);
      removeVolumeFiles(dataRoot, this.name);
    });
  }

  /** As `volume inspect` prints it. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, mountpoint: this.mountpoint, createdAt: this.createdAt.toISOString(), containers: this.containers };
  }
}
