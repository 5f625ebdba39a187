/**
 * Reports, live, every program a CI job runs: the job's execve and execveat calls go to a
 * TypeScript callback (seccomp user notification), which prints the path and argv and lets
 * the call go on. The job runs over the current directory, read-only, with no network.
 *
 *   npm run example:audit-exec -- sh -c 'ls | wc -l; git --version || true'
 *
 * What the callback reads (path, argv) lives in the job's memory, which the job can change
 * after the read: this is an audit log, not a security boundary. To deny a program, put it
 * in the seccomp profile, or check the file the kernel will actually run by other means.
 */
import { constants } from 'node:os';
import { Container, type SeccompNotification } from '../lib';

function describeExec(n: SeccompNotification): string {
  // execve(path, argv, envp); execveat(dirfd, path, argv, envp, flags)
  const at = n.syscall === 'execveat' ? 1 : 0;
  try {
    const path = n.readString(n.args[at]);
    const argv = n.readStringArray(n.args[at + 1]);
    return `${path} ${JSON.stringify(argv)}`;
  } catch (error) {
    return `(unreadable: ${(error as Error).message})`;
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  const command = argv.length > 0 ? argv : ['sh', '-c', 'ls /repo | head -3; uname -s; echo done'];
  const started = Date.now();
  await using container = new Container({
    mounts: [{ type: 'bind', source: process.cwd(), target: '/repo', readonly: true }],
    cwd: '/repo',
    seccomp: {
      profile: 'default',
      notify: {
        syscalls: ['execve', 'execveat'],
        handler: (n) => {
          const ms = String(Date.now() - started).padStart(5);
          process.stderr.write(`[audit +${ms} ms] pid ${n.pid} ${n.syscall}: ${describeExec(n)}\n`);
          return { action: 'continue' };
        },
      },
    },
  });
  const { exitCode, signal } = await container.spawn(command, { stdio: 'inherit' }).wait();
  process.exitCode = exitCode ?? 128 + (signal ? constants.signals[signal] : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
