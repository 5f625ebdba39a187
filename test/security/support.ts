/**
 * Shared helpers for the escape tests: containers destroyed after each test,
 * rootfs copies that a test may plant files and symlinks in, the small static
 * C programs of fixtures/ compiled once per test file, and views of the host
 * (mountinfo, file digests) to check that nothing outside the container moved.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../../lib';
import type { ContainerOptions, ProcessOptions, ProcessOutput } from '../../lib';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';

export const sharedRootfs = ensureBusyboxRootfs();
export const HELPER = path.resolve(__dirname, '..', '..', 'build', 'Release', 'ts-container-helper');
const FIXTURES = path.join(__dirname, 'fixtures');

const live: Container[] = [];
const tempDirs: string[] = [];

/** Destroys this file's containers and removes its temp dirs: call from afterEach. */
export async function cleanup(): Promise<void> {
  await Promise.all(live.splice(0).map((c) => c.destroy().catch(() => undefined)));
  for (const dir of tempDirs.splice(0)) removeTree(dir);
}

/** Removes a tree, first detaching anything a broken test left mounted in it. */
function removeTree(dir: string): void {
  for (const m of hostMounts().filter((e) => e.mountPoint === dir || e.mountPoint.startsWith(`${dir}/`)).reverse()) {
    try {
      execFileSync('umount', ['-l', m.mountPoint], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

export function make(opts: ContainerOptions): Container {
  const c = new Container(opts);
  live.push(c);
  return c;
}

export function run(opts: ContainerOptions, argv: string[], popts: ProcessOptions = {}): Promise<ProcessOutput> {
  return make(opts).spawn(argv, { stdio: 'pipe', ...popts }).output();
}

export function sh(opts: ContainerOptions, script: string, popts: ProcessOptions = {}): Promise<ProcessOutput> {
  return run(opts, ['sh', '-c', script], popts);
}

/** A temp dir on the host, removed by cleanup(). */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsc-sec-${label}-`));
  tempDirs.push(dir);
  return dir;
}

/** A private copy of the busybox rootfs (cp -a), removed by cleanup(). */
export function rootfsCopy(label = 'rootfs'): string {
  const dir = tempDir(label);
  // Searchable by a user namespace's root (an unmapped host root owns it).
  fs.chmodSync(dir, 0o755);
  const root = path.join(dir, 'root');
  execFileSync('cp', ['-a', sharedRootfs, root]);
  return root;
}

let fixtureDir: string | undefined;

// Registered at the top level of each test file that imports this module.
afterAll(() => {
  if (fixtureDir) fs.rmSync(fixtureDir, { recursive: true, force: true });
  fixtureDir = undefined;
});

/**
 * Compiles fixtures/<name>.c statically (once per test file) into a host dir
 * that tests bind read-only at /fixtures; returns the host path of the binary.
 */
export function fixture(name: string): string {
  if (!fixtureDir) {
    fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-sec-fixtures-'));
    // Searchable by a user namespace's root (an unmapped host root owns it).
    fs.chmodSync(fixtureDir, 0o755);
  }
  const out = path.join(fixtureDir, name);
  if (!fs.existsSync(out)) {
    execFileSync('cc', ['-static', '-O1', '-Wall', '-o', out, path.join(FIXTURES, `${name}.c`)], { stdio: 'pipe' });
  }
  return out;
}

/** The bind mount that shows the compiled fixtures at /fixtures. */
export function fixturesMount(...names: string[]): { type: 'bind'; source: string; target: string; readonly: boolean } {
  for (const n of names) fixture(n);
  return { type: 'bind', source: fixtureDir!, target: '/fixtures', readonly: true };
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface MountEntry {
  mountId: string;
  majorMinor: string;
  root: string;
  mountPoint: string;
  fstype: string;
  source: string;
}

export function parseMountinfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter((line) => /^\d+ \d+ \d+:\d+ \S+ \S+ .* - /.test(line))
    .map((line) => {
      const [pre, post] = line.split(' - ');
      const f = pre.split(' ');
      const g = (post ?? '').split(' ');
      return { mountId: f[0], majorMinor: f[2], root: f[3], mountPoint: unescapeOctal(f[4]), fstype: g[0], source: g[1] };
    });
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The host's mounts, as this (jest worker) process sees them. */
export function hostMounts(): MountEntry[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Host mounts at `dir` or below it. */
export function hostMountsUnder(dir: string): MountEntry[] {
  return hostMounts().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));
}

/** "Name: value" lines of a /proc/<pid>/status text. */
export function statusFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** "key: value" lines printed by a fixture. */
export function results(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([\w-]+): (.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
