import { ensureTestAptPackages } from './apt-packages';
import { ensureBusyboxRootfs } from './busybox-rootfs';
import { ensureBuiltCli } from './cli';

export default async function globalSetup(): Promise<void> {
  // These tiers make real containers: without root every test would fail on its first cgroup,
  // and skipping them would make a green run that tested none of the product.
  if (process.getuid?.() !== 0) {
    throw new Error('ts-container: the integration, e2e and slow test tiers make real containers and need root (sudo npm test); `npm run test:unit` runs without root');
  }
  // First: the rootfs is copied from busybox-static, one of the packages.
  ensureTestAptPackages();
  ensureBusyboxRootfs();
  ensureBuiltCli();
}
