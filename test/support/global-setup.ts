import { ensureTestAptPackages } from './apt-packages';
import { ensureBusyboxRootfs } from './busybox-rootfs';
import { ensureBuiltCli } from './cli';

export default async function globalSetup(): Promise<void> {
  // First: the rootfs is copied from busybox-static, one of the packages.
  ensureTestAptPackages();
  ensureBusyboxRootfs();
  ensureBuiltCli();
}
