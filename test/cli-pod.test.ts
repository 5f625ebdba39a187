/**
 * `ts-container pod create|ls|rm`, `run --pod` and `run --network container:ID`, run as a user
 * runs them (dist/cli.js), inside a test network namespace of their own.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { CLI_JS, ensureBuiltCli } from './support/cli';
import { runInTestNetwork } from './support/test-network';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { RUN_TAG, runCgroupParent } from './support/unique';
import type { podCli } from './support/pod-scenarios';

afterAll(() => removeTempDirs());

test('pods and joined networks from the command line', async () => {
  ensureBuiltCli();
  const r = await runInTestNetwork<Awaited<ReturnType<typeof podCli>>>(path.join(__dirname, 'support', 'pod-scenarios.ts'), 'podCli', {
    rootfs: ensureBusyboxRootfs(),
    stateRoot: tempDir('tsc-cli-pod-state-'),
    dataRoot: tempDir('tsc-cli-pod-data-'),
    cgroupParent: runCgroupParent('cli-pod'),
    port: 20000 + crypto.randomInt(40000),
    tag: RUN_TAG,
    cli: CLI_JS,
  });
  expect(r.created).toEqual({ status: 0, stdout: `${r.name}\n`, stderr: '' });
  expect(r.duplicate.status).toBe(125);
  expect(r.duplicate.stderr).toContain(`pod ${r.name} already exists`);
  expect(r.serving.status).toBe(0);
  expect(r.member).toEqual({ status: 0, stdout: `${r.name}\nhi-from-pod\n`, stderr: '' });
  expect(r.joined.status).toBe(0);
  expect(r.joined.stdout).toMatch(/^net:\[\d+\]\n$/);
  expect(r.joined.stdout).toBe(r.serverNet.stdout);
  expect(r.listed.stdout).toMatch(new RegExp(`^NAME +NETWORK +CONTAINERS +CREATED\\n${r.name} +none +1 `));
  expect(r.names.stdout).toBe(`${r.name}\n`);
  expect(r.refused.status).toBe(1);
  expect(r.refused.stderr).toContain('has running containers');
  expect(r.forced).toEqual({ status: 0, stdout: `${r.name}\n`, stderr: '' });
  expect(r.after.pods.stdout).toBe('[]\n');
  expect(r.after.containers.stdout).toBe('');
  expect(r.unknownPod.status).toBe(125);
  expect(r.unknownPod.stderr).toContain('no such pod');
  expect(r.badNetwork.status).toBe(125);
  expect(r.badNetwork.stderr).toContain('--network: expected container:ID');
  expect(r.aliasWithJoin.status).toBe(125);
  expect(r.aliasWithJoin.stderr).toContain('--network-alias: needs --network NAME');
  expect(r.badAction.status).toBe(125);
  expect(r.badAction.stderr).toContain("pod: unknown action 'frob'");
});
