/**
 * A container's volume mounts through the create transaction's 'beforeNamespaces' hook: each
 * named volume is made when missing and the container's use of it recorded, before the
 * helper bind-mounts it. A failed create removes the record, and the volume too when this
 * create made it (and nothing wrote into it), so bad input leaves nothing. The record stays with the
 * container until it is deleted; its state directory going is what ends the use, and an
 * anonymous volume (no source given) goes with its last use, swept by the next volume operation.
 */
import * as fs from 'node:fs';
import { registerCreateHook } from '../container/create-hooks';
import { ensureVolume, recordUse, removeUse, sweepAnonymous, volumeDataRoot, volumePath, withVolumesLock } from './volume-store';

registerCreateHook('beforeNamespaces', async ({ context, config, undo }) => {
  const volumes = new Map(config.mounts.flatMap((m) => (m.type === 'bind' && m.volume ? [[m.volume, m.anonymousVolume === true] as const] : [])));
  if (volumes.size === 0) return;
  const dataRoot = volumeDataRoot(config.dataRoot);
  await withVolumesLock(dataRoot, async () => {
    sweepAnonymous(dataRoot);
    for (const [name, anonymous] of volumes) {
      const made = ensureVolume(dataRoot, name);
      if (made) undo.push(() => withVolumesLock(dataRoot, async () => fs.rmdirSync(volumePath(dataRoot, name))).catch(() => undefined));
      const record = recordUse(dataRoot, name, context.id, config.lifecycle.stateRoot, anonymous);
      undo.push(() => withVolumesLock(dataRoot, async () => removeUse(record)));
    }
  });
});
