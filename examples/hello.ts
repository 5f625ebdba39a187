/**
 * The smallest use of ts-container: run one command in a container and print how it ended.
 *
 *   npm run example:hello        (as root; or: npx tsx examples/hello.ts)
 */
import { Container } from '../lib';

async function main(): Promise<void> {
  // The host's / read-only as the root, its own pid/mount/uts/ipc/net/cgroup namespaces.
  // `await using` destroys the container when main() returns, even after an error.
  await using container = new Container({ hostname: 'hello' });
  const proc = container.spawn(['sh', '-c', 'echo hello from $(hostname)'], { stdio: 'inherit' });
  const { exitCode, signal } = await proc.wait();
  console.log(`exit code: ${exitCode}, signal: ${signal}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
