/** registries.json and the `registries` option: where short names may come from, and which registries may use HTTP. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRegistriesConfig, validateRegistriesOption } from '../../lib/images/registries-config';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-registries-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

it('no file and no option: no search registry at all, never a guessed public one', async () => {
  expect(await loadRegistriesConfig(root)).toEqual({ search: [], insecure: [] });
});

it('reads the file; the option wins key by key', async () => {
  fs.writeFileSync(
    path.join(root, 'registries.json'),
    JSON.stringify({ 'unqualified-search-registries': ['127.0.0.1:5000', 'registry.example'], 'insecure-registries': ['build-box:5000'] }),
  );
  expect(await loadRegistriesConfig(root)).toEqual({ search: ['127.0.0.1:5000', 'registry.example'], insecure: ['build-box:5000'] });
  expect(await loadRegistriesConfig(root, { search: ['[::1]:5000'] })).toEqual({ search: ['[::1]:5000'], insecure: ['build-box:5000'] });
});

it('refuses a file or option that is not lists of registry hosts, naming where', async () => {
  fs.writeFileSync(path.join(root, 'registries.json'), JSON.stringify({ 'unqualified-search-registries': ['https://docker.io'] }));
  await expect(loadRegistriesConfig(root)).rejects.toThrow(/registries.json: unqualified-search-registries\[0\]: "https:\/\/docker.io" is not a registry/);
  fs.writeFileSync(path.join(root, 'registries.json'), '{ not json');
  await expect(loadRegistriesConfig(root)).rejects.toThrow(/registries.json: not valid JSON/);
  expect(() => validateRegistriesOption({ search: 'x' })).toThrow(/^registries.search: expected a list/);
  expect(() => validateRegistriesOption({ mirrors: [] })).toThrow(/^registries.mirrors: not an option/);
  expect(validateRegistriesOption({ insecure: ['h:1'] })).toEqual({ insecure: ['h:1'] });
});
