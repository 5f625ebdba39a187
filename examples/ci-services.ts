/**
 * A CI job with a service container, as CI systems run a job with its database: a private
 * network made for this run, a service on it (a small HTTP server in busybox) known by the
 * name `svc`, and a job container that reaches it by that name. The job's output comes back
 * here; the containers and the network are removed at the end, however the run ends.
 *
 *   npm run example:ci-services
 *
 * Needs root (a bridge, veths and iptables rules in this network namespace) and Debian's
 * containernetworking-plugins. Data and state go where the library's defaults say
 * ($TS_CONTAINER_DATA_ROOT, $TS_CONTAINER_STATE_ROOT).
 */
import * as crypto from 'node:crypto';
import { Container, Network } from '../lib';
import { ensureBusyboxRootfs } from '../test/support/busybox-rootfs';

const PORT = 8080;

/**
 * The service: answers each HTTP request with one line naming the path it was asked for. It
 * reads the whole request first: closing with some of it unread would reset the connection.
 */
const SERVICE = [
  'nc', '-ll', '-p', String(PORT), '-e',
  'sh', '-c',
  'read -r method path rest; cr=$(printf "\\r"); while IFS= read -r line && [ "$line" != "$cr" ] && [ -n "$line" ]; do :; done; ' +
    'printf "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nservice %s answered %s\\n" "$(hostname)" "$path"',
];

/** The job: waits for the service by name, asks it twice, and fails if it never answers. */
const JOB = [
  'sh', '-c',
  [
    'for i in $(seq 300); do wget -q -O /tmp/health http://svc:8080/health 2>/dev/null && break; sleep 0.1; done',
    'test -s /tmp/health || { echo "job: the service never answered" >&2; exit 1; }',
    'cat /tmp/health',
    'wget -q -O - http://svc:8080/run-tests',
  ].join('; '),
];

async function main(): Promise<number> {
  const rootfs = ensureBusyboxRootfs();
  const run = crypto.randomBytes(3).toString('hex');
  const network = await Network.create({ name: `ci-${run}` });
  const service = new Container({ rootfs, hostname: 'service', network: { name: network.name, aliases: ['svc'] } });
  const job = new Container({ rootfs, hostname: 'job', network: network.name });
  try {
    service.spawn(SERVICE);
    console.log(`network ${network.name} (${network.subnet}): service ${service.id} as svc, job ${job.id}`);
    const result = await job.spawn(JOB, { stdio: 'pipe' }).output();
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    console.log(`job exited with ${result.exitCode}`);
    return result.exitCode ?? 1;
  } finally {
    await Promise.allSettled([job.destroy(), service.destroy()]);
    await network.remove({ force: true });
    console.log(`removed the containers and network ${network.name}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
