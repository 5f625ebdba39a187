/**
 * The CLI's `run -d --rm`, as docker's: a detached container that its monitor removes once it
 * has stopped for good (native/monitor/auto_remove.cc), its state directory and writable layer
 * as `delete` removes them. A restart policy other than "no" never ends for good: the CLI
 * refuses it with --rm. Not an option of the library, whose detached containers stay until
 * destroyed.
 */
import type { PlanEntry } from '../protocol/generated/plan';
import { writableLayerPaths } from './writable-layer';
import type { ContainerContext } from './context';

/** Contexts whose containers remove themselves when they stop for good. */
const removedOnExit = new WeakSet<ContainerContext>();

/** Marks a detached container, before create(), as removing itself once it stops. */
export function removeOnExit(context: ContainerContext): void {
  if (!context.detach) throw new Error('ts-container: internal: only a detached container removes itself on exit');
  removedOnExit.add(context);
}

/** The monitor's plan entries for it: none for a container not marked. */
export function removeOnExitEntries(context: ContainerContext): PlanEntry[] {
  if (!removedOnExit.has(context)) return [];
  const dataRoot = context.record?.dataRoot;
  const entries: PlanEntry[] = [['remove.on_exit', true]];
  if (dataRoot !== undefined) entries.push(['remove.layer_dir', writableLayerPaths(dataRoot, context.id).dir]);
  return entries;
}
