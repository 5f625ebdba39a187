/** What to do about a setup failure, for the failures a user can fix. */
import { errnoName } from '../errors/errors';
import { Step } from '../protocol/generated/steps';

/** The failure is told apart by its step id (protocol/report-steps.ts); step is what the user reads. */
export function setupHint(stepId: number, errno: number): string | undefined {
  const code = errnoName(errno);
  if (stepId === Step.Clone && code === 'EPERM') {
    return 'Creating namespaces needs root (CAP_SYS_ADMIN in the initial user namespace): run as root';
  }
  if (code === 'ENOSYS') {
    return 'This kernel lacks a system call ts-container needs (clone3, pidfd, openat2 and the mount API: Linux 5.12 or newer)';
  }
  if (stepId === Step.MountBindSource && code === 'ENOENT') {
    return 'The bind mount source does not exist on the host';
  }
  if (stepId === Step.IdmapMount && code === 'EINVAL') {
    return "In a user namespace (userns, or the host's /) bind mount sources and the rootfs's layers are idmapped, and a filesystem of theirs cannot be (proc, sysfs, FUSE, NFS, overlayfs...); for layers, use a data root on ext4, xfs, btrfs or tmpfs";
  }
  if (code === 'EROFS' && (stepId === Step.Mount || stepId === Step.MountBindSource)) {
    return 'The mount target does not exist and the rootfs is read-only, so it cannot be created; create it in the rootfs or mount a tmpfs on its parent';
  }
  if (stepId === Step.MountRootfsOverlay && code === 'ENODEV') {
    return 'This kernel has no overlayfs (CONFIG_OVERLAY_FS; modprobe overlay), which a rootfs directory\'s writable layer needs; or set rootfsOverlay: false';
  }
  if (stepId === Step.MountRootfsOverlay && code === 'EINVAL') {
    return "overlayfs refused the layers: the data root's filesystem may not serve as an upper layer (NFS, overlayfs), or a layer overlaps another; the kernel log (dmesg) says which";
  }
  if (stepId === Step.ShareNamespaces && code === 'ESRCH') {
    return 'The container (or pod) whose namespaces it shares stopped while this one was made';
  }
  if (stepId === Step.ResolveUser && code === 'ENOENT') {
    return "Name a user of the container's own /etc/passwd (and a group of its /etc/group), or give numeric ids";
  }
  if (stepId === Step.AllocateTerminal) {
    return "The container's /dev/ptmx must lead to its /dev/pts/ptmx; a mount over /dev or /dev/pts may hide them";
  }
  return undefined;
}
