/**
 * A container of an image: the image is found in its store when the Container is made (never
 * pulled: ImageNotFoundError), its unpacked layers become the overlay's lower layers (shared by
 * every container of the image), and its config gives the defaults the options leave open:
 * Entrypoint + Cmd as the program, Env under the option env, WorkingDir as cwd, and User,
 * resolved in the image's own /etc/passwd and /etc/group as runc resolves it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageStore } from '../images/image-store';
import type { ImageRuntimeConfig } from '../images/manifest';
import { DEFAULT_PATH } from '../options/defaults';
import { fail } from '../options/option-error';
import type { ContainerOptions } from '../options/types';
import type { ContainerConfig, NormalizedUser } from '../options/validate';
import { checkLowerLayerCount } from './rootfs-overlay';
import { healthcheckOverImage } from '../health/healthcheck-options';

function storeOf(option: ContainerOptions['imageStore'], dataRoot: string): ImageStore {
  if (option === undefined) return new ImageStore({ root: dataRoot });
  if (option instanceof ImageStore) return option;
  if (typeof option === 'string') return new ImageStore({ root: option });
  return fail('imageStore', 'expected an ImageStore or the path of its root');
}

/**
 * A file of the merged image tree, read from the topmost layer that has it: never through a
 * symlink (a layer's /etc/passwd may point anywhere on the host), and not below a whiteout.
 */
function readImageFile(layerDirs: string[], relative: string): string | undefined {
  for (const layer of layerDirs) {
    let dir = layer;
    let blocked = false;
    for (const part of path.dirname(relative).split('/')) {
      dir = path.join(dir, part);
      const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
      if (stat === undefined) {
        blocked = false;
        break;
      }
      // A symlinked or whited-out directory: what is below it is not this file.
      if (!stat.isDirectory()) {
        blocked = true;
        break;
      }
    }
    if (blocked) return undefined;
    const file = path.join(layer, relative);
    const stat = fs.lstatSync(file, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (!stat.isFile()) return undefined;
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  }
  return undefined;
}

/** Lines of a passwd/group file split at ':'. */
function entries(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}

const NUMERIC = /^[0-9]+$/;

/**
 * The image's User ("name", "uid", "name:group", "uid:gid"): names looked up in the image's
 * files, numbers as they are; a user's gid and supplementary groups from those files.
 */
export function resolveImageUser(user: string, layerDirs: string[]): NormalizedUser & { home?: string } {
  const [userPart = '', groupPart] = user.split(':', 2);
  const passwd = entries(readImageFile(layerDirs, 'etc/passwd'));
  const groupFile = entries(readImageFile(layerDirs, 'etc/group'));
  const byName = passwd.find((e) => e[0] === userPart);
  const byUid = NUMERIC.test(userPart) ? passwd.find((e) => e[2] === userPart) : undefined;
  const entry = byName ?? byUid;
  if (!entry && !NUMERIC.test(userPart)) fail('image', `User ${JSON.stringify(user)}: no such user in the image's /etc/passwd`);
  const uid = entry ? Number(entry[2]) : Number(userPart);
  let gid = entry ? Number(entry[3]) : uid;
  if (groupPart !== undefined) {
    const group = groupFile.find((g) => g[0] === groupPart) ?? (NUMERIC.test(groupPart) ? groupFile.find((g) => g[2] === groupPart) : undefined);
    if (!group && !NUMERIC.test(groupPart)) fail('image', `User ${JSON.stringify(user)}: no such group in the image's /etc/group`);
    gid = group ? Number(group[2]) : Number(groupPart);
  }
  const name = entry?.[0];
  // Supplementary groups: those that list the user by name (runc does the same), besides its own.
  const groups = name === undefined || groupPart !== undefined ? [] : groupFile.filter((g) => (g[3] ?? '').split(',').includes(name)).map((g) => Number(g[2])).filter((g) => g !== gid);
  const home = entry?.[5];
  return { uid, gid, groups, ...(home ? { home } : {}) };
}

/** KEY=VALUE list to a record (the first "=" splits). */
function envRecord(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const at = item.indexOf('=');
    if (at > 0) out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

/**
 * Finds the image and fills the config with its layers and defaults. Options the caller gave
 * (env, cwd, user) win over the image's.
 */
export function applyImage(config: ContainerConfig, options: ContainerOptions): ContainerConfig {
  if (options.image === undefined) return config;
  if (typeof options.image !== 'string' || options.image === '') fail('image', 'expected an image reference, id or digest');
  const store = storeOf(options.imageStore, config.dataRoot);
  const { image, reference, layerDirs } = store.resolveSync(options.image);
  checkLowerLayerCount(layerDirs.length);
  const runtime: ImageRuntimeConfig = image.config;
  const command = [...(runtime.Entrypoint ?? []), ...(runtime.Cmd ?? [])];
  // The writable layer and its record live in the store's data root: its remove and prune see them.
  if (options.dataRoot !== undefined && path.resolve(options.dataRoot) !== store.dataRoot) {
    fail('imageStore', `its root ${store.dataRoot} differs from dataRoot ${options.dataRoot}: a container's layer lives in its image's data root`);
  }
  const next: ContainerConfig = {
    ...config,
    dataRoot: store.dataRoot,
    imageLayers: layerDirs,
    image: { id: image.id, digest: image.digest, reference: reference ?? null, command: command.length > 0 ? command : null },
  };
  let home: string | undefined;
  if (options.user === undefined && runtime.User) {
    const resolved = resolveImageUser(runtime.User, layerDirs);
    home = resolved.home;
    next.user = { uid: resolved.uid, gid: resolved.gid, groups: resolved.groups };
  }
  // The image's check applies unless the option says otherwise (['NONE'] turns it off).
  next.healthcheck = healthcheckOverImage(options.healthcheck, runtime);
  if (options.cwd === undefined && runtime.WorkingDir) next.cwd = path.posix.resolve('/', runtime.WorkingDir);
  const imageEnv = envRecord(runtime.Env);
  const given = options.env ?? {};
  next.env = { ...config.env, PATH: DEFAULT_PATH, ...imageEnv };
  if (home !== undefined && imageEnv.HOME === undefined) next.env.HOME = home;
  else if (next.user.uid !== 0 && imageEnv.HOME === undefined) next.env.HOME = '/';
  for (const [key, value] of Object.entries(config.env)) if (key in given) next.env[key] = value;
  return next;
}
