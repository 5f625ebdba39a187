import { ensureBusyboxRootfs } from './busybox-rootfs';

export default async function globalSetup(): Promise<void> {
  ensureBusyboxRootfs();
}
