/**
 * Runs a command over a repository the way a CI job would, but sandboxed:
 * - the repository mounted read-only at /repo (the command works there),
 * - a writable scratch tmpfs at /scratch (also $HOME and $TMPDIR),
 * - no network (its own network namespace with only lo),
 * - the host's tools (the host's / as the root, read-only),
 * and exits with the command's exit status (128+N if a signal N killed it).
 *
 *   npx tsx examples/ci-sandbox.ts [--repo DIR] [-- CMD [ARGS...]]
 *   npm run example:ci-sandbox -- --repo . -- npm test --offline
 *
 * Without a command it shows what the sandbox allows.
 */
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';

const DEFAULT_COMMAND = [
  'sh',
  '-c',
  [
    'echo "files in /repo:"; ls /repo | head -n 5',
    'touch /repo/.ci-sandbox-probe 2>/dev/null && echo "repo is WRITABLE" || echo "repo is read-only"',
    'echo built > /scratch/out.txt && echo "scratch is writable: $(cat /scratch/out.txt)"',
    'echo "network interfaces:" $(tail -n +3 /proc/net/dev | cut -d: -f1)',
  ].join('; '),
];

function usage(message: string): never {
  console.error(`ci-sandbox: ${message}\nusage: npx tsx examples/ci-sandbox.ts [--repo DIR] [-- CMD [ARGS...]]`);
  process.exit(2);
}

function parse(args: string[]): { repo: string; command: string[] } {
  let repo = process.cwd();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '--repo') {
      if (i + 1 >= args.length) usage('--repo requires a directory');
      repo = args[++i];
    } else if (a.startsWith('--repo=')) {
      repo = a.slice('--repo='.length);
    } else if (a.startsWith('-')) {
      usage(`unknown flag '${a}'`);
    } else {
      break; // the command starts here
    }
  }
  const command = args.slice(i);
  return { repo: path.resolve(repo), command: command.length > 0 ? command : DEFAULT_COMMAND };
}

async function main(): Promise<number> {
  const { repo, command } = parse(process.argv.slice(2));
  if (!fs.statSync(repo, { throwIfNoEntry: false })?.isDirectory()) usage(`${repo} is not a directory`);

  await using sandbox = new Container({
    hostname: 'ci-sandbox',
    // rootfs omitted: the host's / read-only, so the host's sh, node, git, compilers are there.
    network: 'none',
    // A tiny init as PID 1: reaps the zombies a build leaves and passes Ctrl-C on to the job
    // (a program that is PID 1 itself ignores signals it has no handler for).
    init: true,
    mounts: [
      { type: 'bind', source: repo, target: '/repo', readonly: true },
      { type: 'tmpfs', target: '/scratch', size: '256m' },
    ],
    cwd: '/repo',
    env: { HOME: '/scratch', TMPDIR: '/scratch', CI: 'true', PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' },
  });
  const job = sandbox.spawn(command, { stdio: 'inherit' });

  // Ctrl-C or a CI timeout: pass it on to the job (its exit status then says what happened).
  const forward = (sig: NodeJS.Signals) => () => job.kill(sig);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt).on('SIGTERM', onTerm);
  try {
    const { exitCode, signal } = await job.wait();
    if (exitCode !== null) return exitCode;
    return 128 + (signal ? osConstants.signals[signal] : 0);
  } finally {
    process.off('SIGINT', onInt).off('SIGTERM', onTerm);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: NodeJS.ErrnoException) => {
    console.error(`ci-sandbox: ${err.message}`);
    process.exitCode = err.code === 'ENOENT' ? 127 : err.code === 'EACCES' ? 126 : 125;
  },
);
