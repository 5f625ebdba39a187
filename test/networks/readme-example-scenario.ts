/**
 * The README's `npm run example:ci-services` line, run as a user types it, inside the test host
 * (runInTestHost) with data and state roots of its own. Returns what it printed and what it
 * left: networks, containers, veths, rules, reservations.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { leftovers } from './network-scenarios';

const REPO = path.join(__dirname, '..', '..');

export async function readmeCiServices(): Promise<unknown> {
  const line = fs
    .readFileSync(path.join(REPO, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('npm run example:ci-services'));
  if (!line) throw new Error('README: no `npm run example:ci-services` line');
  const command = line.replace(/\s+#.*$/, '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-ci-services-'));
  const dataRoot = path.join(dir, 'data');
  const stateRoot = path.join(dir, 'state');
  try {
    const r = spawnSync('sh', ['-c', command], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, TS_CONTAINER_DATA_ROOT: dataRoot, TS_CONTAINER_STATE_ROOT: stateRoot },
    });
    const listDir = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
    return {
      command,
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      networks: listDir(path.join(dataRoot, 'networks')).filter((f) => f.endsWith('.conflist')),
      containers: listDir(stateRoot),
      bridges: JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout) as unknown[],
      left: leftovers(dataRoot),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
