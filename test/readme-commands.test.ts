/**
 * The README walkthrough: every command line shown in README.md's shell blocks is run, in
 * order, on a fresh state root and data root, as a user would type it, and its output checked
 * (test/support/readme-walkthrough.ts; networked lines run in a network namespace of the test's
 * own, with a registry on its 127.0.0.1). The "Image commands" session is run the same way by
 * readme-image-commands.test.ts. A README command line that WALKTHROUGH below does not know
 * fails the first test: whoever adds a command to the README adds its check here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_JS, NODE } from './support/cli';
import type { WalkthroughLine, WalkthroughOutcome } from './support/readme-walkthrough';
import { README } from './support/readme-snippets';
import { runInTestNetwork } from './support/test-network';
import { buildTestImage } from './support/test-images';
import { tarBytes } from './support/tar-writer';
import { removeTempDirs, tempDir } from './support/temp-dirs';

/**
 * What running a README line must show: its exit status (default 0) and its output. On a
 * terminal the shell's prompt ("# ") and the echo of the typed input come in either order.
 */
interface Check {
  status?: number;
  stdout?: RegExp;
  /** Run on a terminal of its own, typing this. */
  typed?: string;
  /** It follows output until Ctrl-C: interrupted once stdout matches `stdout`. */
  untilInterrupted?: boolean;
}

/** Each README command line (as written, its comment included) and its check. */
const WALKTHROUGH = new Map<string, Check>([
  ["npx ts-container run --rm --hostname box -- sh -c 'hostname; cat /proc/1/cmdline; ls /proc'", { stdout: /^box\nsh\0-c\0hostname;[^\n]*\n(.*\n)*self\n/ }],
  ["npx ts-container run --rm --memory 256m --pids-limit 64 --cpus 1 --usage -- sh -c 'echo limited'", { stdout: /^limited\n/ }],
  ["npx ts-container run --rm -it -- sh # a shell with a terminal of its own, this terminal's size", { typed: 'tty; exit\n', stdout: /\/dev\/(pts\/\d+|console)\r*\n/ }],
  ["npx ts-container run -d --init --name web -- sh -c 'while :; do date; sleep 1; done'", { stdout: /^web\n$/ }],
  ["npx ts-container ps                  # docker's columns; -a: stopped ones too; list: all, in its own columns", { stdout: /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n(.*\n)*web\s.*Up .*\sweb\n/ }],
  ["npx ts-container ps --format '{{.Names}} {{.Status}}'   # or 'table {{.ID}}\\t{{.Ports}}', or json", { stdout: /^web Up [^\n]+\n$/ }],
  ['npx ts-container exec web hostname   # web', { stdout: /^web\n$/ }],
  ['npx ts-container logs -f web         # its output; Ctrl-C stops following', { untilInterrupted: true, stdout: /\d\d:\d\d:\d\d.*\n/ }],
  ['npx ts-container logs --tail 5 -t web   # the last 5 lines, each after its time (--since 10m, too)', { stdout: /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z [^\n]*\d\d:\d\d:\d\d[^\n]*\n){1,5}$/ }],
  ['npx ts-container cp ./site web:/tmp  # into it, as docker cp (web:/tmp/site ./back: out of it)', { stdout: /^$/ }],
  ['npx ts-container top web             # its processes', { stdout: /^PID\s+COMMAND\n(.*\n)*\d+\s+sh -c while :; do date; sleep 1; done\n/ }],
  ['npx ts-container stats --no-stream web   # CPU %, memory / limit, pids / limit, block I/O; without --no-stream: live until Ctrl-C', { stdout: /^ID\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+PIDS\s+BLOCK I\/O\nweb\s+\d+\.\d+%/ }],
  ['npx ts-container exec -it web sh     # a shell in it, on a terminal of its own', { typed: 'hostname; exit\n', stdout: /(\n|# )web\r*\n/ }],
  ['npx ts-container stop web && npx ts-container wait web && npx ts-container rm web   # wait prints the exit code', { stdout: /^web\n143\nweb\n$/ }],
  ['npx ts-container info                # version, kernel, cgroup version, roots, counts (--json)', { stdout: /^Runtime: ts-container \S+\nKernel: \S+\n(.*\n)*Cgroup version: (v1|v2|hybrid)\n(.*\n)*State root: \S+\nData root: \S+\n/ }],
  ['npx ts-container run --rm -u nobody --read-only --cap-drop ALL --ulimit nofile=1024 -- id', { stdout: /^uid=65534\(nobody\) gid=65534\(nogroup\)/ }],
  ['npx ts-container run --rm --mount type=bind,src=.,dst=/repo,readonly --mount type=tmpfs,dst=/scratch -w /repo -- ls', { stdout: /^app\.env\nsite\n$/ }],
  ['npx ts-container run --rm --env-file app.env --entrypoint env -- FOO=1   # --entrypoint: the program; the words after, its arguments', { stdout: /\nGREETING=hello\nFOO=1\n$/ }],
  ["npx ts-container run -d --name db --stop-signal SIGINT --stop-timeout 30 -- sh -c 'trap \"exit 0\" INT; while :; do sleep 1; done'", { stdout: /^db\n$/ }],
  ["npx ts-container run --rm --privileged -- sh -c 'cat /proc/self/status'    # prints a warning first, as it gives everything away", { stdout: /^Name:\tcat\n(.*\n)*Seccomp:\t0\n/ }],
  ['npx ts-container pull 127.0.0.1:5000/tools/alpine:3.20   # a bar per layer on a terminal; -q: the id alone', { stdout: /Digest: sha256:[0-9a-f]{64}\n(.*\n)*Image id: [0-9a-f]{64}/ }],
  ['npx ts-container run --rm alpine:3.20 cat /etc/os-release # IMAGE [COMMAND...]; a missing image is pulled (--pull missing|always|never)', { stdout: /^NAME="README test image"\n/ }],
  ['npx ts-container images                  # REPOSITORY, TAG, IMAGE ID, CREATED, SIZE (--json, -q)', { stdout: /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n.*\/tools\/alpine\s+3\.20\s+[0-9a-f]{12}\s/ }],
  ['npx ts-container tag alpine:3.20 base:1 && npx ts-container inspect base:1   # inspect: a container or an image, as JSON', { stdout: /^\[\n(.*\n)*.*"localhost\/base:1"/ }],
  ['npx ts-container save -o a.tar base:1 && npx ts-container load -i a.tar      # docker-archive; --format oci-archive', { stdout: /^Loaded image: localhost\/base:1\n/ }],
  ['npx ts-container push base:1 127.0.0.1:5000/mine/base:1 && npx ts-container rmi base:1', { stdout: /sha256:[0-9a-f]{64}\n(.*\n)*Untagged: localhost\/base:1/ }],
]);

/** What the README's lines find in the directory they run in (cp's ./site, --env-file's app.env). */
const README_FILES: Record<string, string> = { 'site/index.html': '<h1>hi</h1>\n', 'app.env': 'GREETING=hello\n' };

/** The README section whose session readme-image-commands.test.ts runs. */
const IMAGE_SESSION = '### Image commands';

/** A shell line that runs ts-container anywhere in it (not a comment; not npm or apt alone). */
const isCommandLine = (line: string): boolean => !line.trimStart().startsWith('#') && /(^|[\s;&|(])(npx\s+)?ts-container\s/.test(line.trim());

interface ReadmeLine {
  number: number;
  line: string;
  section: string;
}

/** The command lines of README.md's shell blocks, with the section each is in. */
function readmeCommandLines(): ReadmeLine[] {
  const lines = fs.readFileSync(README, 'utf8').split('\n');
  const found: ReadmeLine[] = [];
  let section = '';
  let inShell = false;
  lines.forEach((line, i) => {
    if (/^```/.test(line)) {
      inShell = !inShell && /^```(sh|bash|shell|console)\s*$/.test(line);
      return;
    }
    if (!inShell && /^#{2,3} /.test(line)) section = line;
    if (inShell && isCommandLine(line)) found.push({ number: i + 1, line, section });
  });
  return found;
}

const readmeLines = readmeCommandLines();
const walked = readmeLines.filter((l) => l.section !== IMAGE_SESSION);
let outcomes: WalkthroughOutcome[];

/** The test image, with an /etc/os-release for the README's `cat /etc/os-release`. */
function readmeImage(): string {
  const dir = tempDir('tsc-readme-walk-img-');
  const { layout, tag } = buildTestImage('busybox', dir);
  const layer = path.join(dir, 'os-release.tar');
  fs.writeFileSync(layer, tarBytes([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/os-release', data: 'NAME="README test image"\nID=readme\n', mode: 0o644 }]));
  const r = spawnSync('umoci', ['raw', 'add-layer', '--image', `${layout}:${tag}`, layer], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`umoci raw add-layer: ${r.stderr}`);
  return layout;
}

beforeAll(async () => {
  const lines: WalkthroughLine[] = walked.map(({ line }) => {
    const check = WALKTHROUGH.get(line);
    return {
      line,
      ...(check?.typed !== undefined && { typed: check.typed }),
      ...(check?.untilInterrupted && check.stdout && { interruptAfter: check.stdout.source }),
    };
  });
  outcomes = await runInTestNetwork<WalkthroughOutcome[]>(path.join(__dirname, 'support', 'readme-walkthrough.ts'), 'runReadmeWalkthrough', {
    node: NODE,
    cli: CLI_JS,
    layout: readmeImage(),
    lines,
    files: README_FILES,
    stateRoot: tempDir('tsc-readme-walk-state-'),
    dataRoot: tempDir('tsc-readme-walk-data-'),
  }, 400_000);
}, 500_000);

afterAll(() => removeTempDirs());

test('every README command line is walked here or in the image session', () => {
  expect(walked.length).toBeGreaterThan(10);
  expect(readmeLines.some((l) => l.section === IMAGE_SESSION)).toBe(true);
  const unknown = walked.filter((l) => !WALKTHROUGH.has(l.line)).map((l) => `README.md:${l.number}: ${l.line}`);
  if (unknown.length > 0) {
    throw new Error(`README command lines that test/readme-commands.test.ts does not walk; add each to WALKTHROUGH with its check:\n${unknown.join('\n')}`);
  }
  // A check for a line the README no longer shows is stale.
  const shown = new Set(walked.map((l) => l.line));
  expect([...WALKTHROUGH.keys()].filter((line) => !shown.has(line))).toEqual([]);
});

test.each(walked.map((l, index) => [l.number, l.line, index] as const))('README.md:%i: %s', (_number, line, index) => {
  const outcome = outcomes[index];
  const check = WALKTHROUGH.get(line);
  if (!check) throw new Error('not in WALKTHROUGH (see the first test)');
  const interrupted = check.untilInterrupted && (outcome.signal === 'SIGINT' || outcome.status === 130 || outcome.status === 0);
  if (!interrupted && outcome.status !== (check.status ?? 0)) {
    throw new Error(`exit status ${outcome.status ?? outcome.signal}, expected ${check.status ?? 0}:\n${outcome.stderr}${outcome.stdout}`);
  }
  if (check.stdout) expect(outcome.stdout).toMatch(check.stdout);
});
