import * as path from 'node:path';
import { runInTestHost } from '../support/test-host';

const SCENARIOS = path.join(__dirname, 'network-scenarios.ts');

test('smoke', async () => {
  const r = await runInTestHost(SCENARIOS, 'oneContainer');
  console.log(JSON.stringify(r, null, 2));
}, 120000);
