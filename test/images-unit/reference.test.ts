/** Image references: docker's grammar, podman's normalization, and the short-name rule. */
import { formatReference, normalizeDockerReference, normalizeReference, parseReference, qualifyWithSearchRegistries } from '../../lib/images/reference';

describe('parseReference', () => {
  it.each([
    ['alpine', { path: 'alpine' }],
    ['alpine:3.20', { path: 'alpine', tag: '3.20' }],
    ['library/alpine', { path: 'library/alpine' }],
    ['localhost/app', { domain: 'localhost', path: 'app' }],
    ['127.0.0.1:5000/tools/alpine:3.20', { domain: '127.0.0.1:5000', path: 'tools/alpine', tag: '3.20' }],
    ['Registry.Example/app', { domain: 'Registry.Example', path: 'app' }],
    ['example.com/a/b/c@sha256:' + 'ab'.repeat(32), { domain: 'example.com', path: 'a/b/c', digest: 'sha256:' + 'ab'.repeat(32) }],
    ['app:1@sha256:' + '0'.repeat(64), { path: 'app', tag: '1', digest: 'sha256:' + '0'.repeat(64) }],
    ['my_app-x.y__z:t', { path: 'my_app-x.y__z', tag: 't' }],
  ])('%s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
    expect(formatReference(parseReference(input))).toBe(input);
  });

  it.each([
    ['', /non-empty/],
    ['Alpine', /repository name component/],
    ['app:', /tag/],
    ['app:-x', /tag/],
    ['app@sha256:short', /digest/],
    ['a//b', /component/],
    ['-app', /component/],
    ['app_', /component/],
    ['bad host!/app', /registry|component/],
    ['a'.repeat(256), /longer than 255/],
  ])('refuses %j', (input, message) => {
    expect(() => parseReference(input, 'image')).toThrow(TypeError);
    expect(() => parseReference(input, 'image')).toThrow(message);
  });

  it('names the option in its message', () => {
    expect(() => parseReference('A', 'tag')).toThrow(/^tag: "A" is not an image reference/);
  });
});

describe('normalization', () => {
  it('podman: an unqualified name goes under localhost/, a missing tag is latest', () => {
    expect(normalizeReference('app')).toBe('localhost/app:latest');
    expect(normalizeReference('team/app:2')).toBe('localhost/team/app:2');
    expect(normalizeReference('localhost/app')).toBe('localhost/app:latest');
    expect(normalizeReference('127.0.0.1:5000/app@sha256:' + '1'.repeat(64))).toBe('127.0.0.1:5000/app@sha256:' + '1'.repeat(64));
    expect(normalizeReference('docker.io/alpine')).toBe('docker.io/library/alpine:latest');
  });

  it("docker archives: a short RepoTag is Docker Hub's", () => {
    expect(normalizeDockerReference('busybox:1')).toBe('docker.io/library/busybox:1');
    expect(normalizeDockerReference('team/app')).toBe('docker.io/team/app:latest');
    expect(normalizeDockerReference('quay.io/x/y:2')).toBe('quay.io/x/y:2');
  });

  it('a short name for a pull becomes one candidate per search registry, in order, never a guess', () => {
    expect(qualifyWithSearchRegistries(parseReference('alpine:3.20'), ['127.0.0.1:5000', 'registry.example'])).toEqual([
      '127.0.0.1:5000/alpine:3.20',
      'registry.example/alpine:3.20',
    ]);
    expect(qualifyWithSearchRegistries(parseReference('alpine'), [])).toEqual([]);
  });
});
