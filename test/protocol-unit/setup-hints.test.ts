/**
 * Setup failures are told apart by the helper's step id (protocol/report-steps.ts), never by
 * the text of the step, which stays what the user reads.
 */
import * as os from 'node:os';
import { setupHint } from '../../lib/container/setup-hints';
import { reportError } from '../../lib/container/report-error';
import { ContainerSetupError } from '../../lib/errors/errors';
import { Step } from '../../lib/protocol/generated/steps';

const { ENOENT, EINVAL, EROFS, EPERM, EIO, ENODEV } = os.constants.errno;

test.each([
  ['a missing bind source', Step.MountBindSource, ENOENT, /bind mount source does not exist/],
  ['an idmap the filesystem refuses', Step.IdmapMount, EINVAL, /idmapped/],
  ['a mount target the read-only rootfs cannot have', Step.Mount, EROFS, /rootfs is read-only/],
  ['a bind target the read-only rootfs cannot have', Step.MountBindSource, EROFS, /rootfs is read-only/],
  ['clone3 without privilege', Step.Clone, EPERM, /needs root/],
  ['a terminal that cannot be allocated', Step.AllocateTerminal, EIO, /\/dev\/ptmx/],
  ['a kernel without overlayfs', Step.MountRootfsOverlay, ENODEV, /CONFIG_OVERLAY_FS/],
  ['layers overlayfs refuses', Step.MountRootfsOverlay, EINVAL, /dmesg/],
])('%s has a hint', (_name, stepId, errno, hint) => {
  expect(setupHint(stepId, errno)).toMatch(hint);
});

test('a step that is not classified has no hint, whatever its text', () => {
  expect(setupHint(Step.Unclassified, ENOENT)).toBeUndefined();
  const error = reportError(['true'], { ok: false, pid: -1, pidfd: -1, terminalFd: -1, errno: ENOENT, stepId: Step.Unclassified, step: 'mount /x (source /y)' });
  expect(error).toBeInstanceOf(ContainerSetupError);
  expect(error.message).toBe('mount /x (source /y): ENOENT (no such file or directory)');
});

test('an exec failure is the program\'s spawn error', () => {
  const error = reportError(['no-such-program'], { ok: false, pid: -1, pidfd: -1, terminalFd: -1, errno: ENOENT, stepId: Step.Exec, step: 'exec' });
  expect(error.message).toBe('spawn no-such-program ENOENT');
});
