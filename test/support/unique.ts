/**
 * Names that no other run can hold. Two runs of the suite may share a machine (two
 * worktrees, a CI job beside a developer): a fixed container id or cgroup parent then
 * collides in the host-wide cgroup tree ("cgroup .../ts-container/<id> already exists"),
 * whatever state root each run uses.
 */
import * as crypto from 'node:crypto';

/** This test file's run: its pid and a random suffix (pids are reused across runs). */
export const RUN_TAG = `${process.pid}-${crypto.randomBytes(3).toString('hex')}`;

/** A container id unique to this run: `name` stays readable in a listing or a failure. */
export function uniqueId(name: string): string {
  return `${name}-${RUN_TAG}`;
}

/**
 * A cgroupParent of this run's own, below the hierarchy root. The library makes it with
 * the first container placed there and removes it with the last one.
 */
export function runCgroupParent(tag: string): string {
  return `/tsc-test-${tag}-${RUN_TAG}`;
}
