/**
 * The README's networked example (examples/ci-services.ts), run by its README command in a
 * test host namespace of its own: the job reaches the service by name, and nothing is left.
 */
import * as path from 'node:path';
import { runInTestHost } from '../support/test-host';
import type { readmeCiServices } from './readme-example-scenario';

test('npm run example:ci-services: the job reaches its service by name, then all is removed', async () => {
  const r = (await runInTestHost(path.join(__dirname, 'readme-example-scenario.ts'), 'readmeCiServices', null, 170_000)) as Awaited<ReturnType<typeof readmeCiServices>> & Record<string, any>;
  expect(r.command).toBe('npm run example:ci-services');
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: expect.stringContaining('job exited with 0'), stderr: expect.not.stringContaining('Error') });
  expect(r.stdout).toContain('service service answered /health\nservice service answered /run-tests\njob exited with 0\n');
  expect(r.stdout).toMatch(/removed the containers and network ci-[0-9a-f]{6}\n$/);
  expect(r.networks).toEqual([]);
  expect(r.containers).toEqual([]);
  expect(r.bridges).toEqual([]);
  expect(r.left).toEqual({ veths: 0, bridgePorts: 0, rules: [], ipam: [], records: [] });
}, 180_000);
