/**
 * The command line as docker users type it, end to end through dist/cli.js: run's docker
 * flags (-u NAME[:GROUP], --mount type=..., --entrypoint, --cap-add/--cap-drop, --privileged,
 * --env-file, --ulimit, --stop-signal/--stop-timeout, --read-only), the commands ps, top, rm,
 * wait, info, stats, and docker's exit statuses. Real containers of a busybox rootfs with its
 * own user database, in this file's own state and data roots. Needs root, the built addon and
 * helper.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { CLI_JS, cliRunner, NODE, type CliResult } from './support/cli';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { uniqueId } from './support/unique';

let stateRoot: string;
let dataRoot: string;
let rootfs: string;
let work: string;

const { cli, ok } = cliRunner(() => ['--root', stateRoot, '--data-root', dataRoot], { cwd: () => work });

/** `run --rm --rootfs ROOTFS FLAGS -- COMMAND...`. */
function run(flags: string[], command: string[]): CliResult {
  return cli(['run', '--rm', '--rootfs', rootfs, ...flags, '--', ...command]);
}

/** The effective capability set of a container run with these flags. */
function capEff(flags: string[]): bigint {
  const r = run(flags, ['sh', '-c', 'grep CapEff /proc/self/status']);
  expect(r.status).toBe(0);
  return BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(r.stdout)![1]}`);
}

beforeAll(() => {
  const base = tempDir('cli-docker-');
  stateRoot = path.join(base, 'state');
  dataRoot = path.join(base, 'data');
  work = path.join(base, 'work');
  fs.mkdirSync(work);
  rootfs = path.join(base, 'rootfs');
  execFileSync('cp', ['-a', ensureBusyboxRootfs(), rootfs]);
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n');
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nalice:x:1001:\nstaff:x:50:alice\n');
});

afterAll(() => {
  // Whatever a failed test left running goes with the roots.
  for (const id of cli(['list', '-q']).stdout.split('\n').filter(Boolean)) cli(['rm', '-f', id]);
  removeTempDirs();
});

describe("run's docker flags", () => {
  test("-u NAME[:GROUP] is looked up in the container's /etc/passwd and /etc/group", () => {
    expect(run(['-u', 'alice'], ['id'])).toEqual({ status: 0, stdout: 'uid=1001(alice) gid=1001(alice) groups=50(staff),1001(alice)\n', stderr: '' });
    expect(run(['--user', 'alice:staff'], ['sh', '-c', 'id; echo $HOME'])).toMatchObject({
      status: 0,
      stdout: 'uid=1001(alice) gid=50(staff) groups=50(staff)\n/home/alice\n',
    });
    const unknown = run(['-u', 'mallory'], ['true']);
    expect(unknown.status).toBe(125);
    expect(unknown.stderr).toContain("user 'mallory': no such user in the container's /etc/passwd");
    expect(ok(['list', '-q'])).toBe('');
  });

  test('--mount type=bind|tmpfs,src=,dst=,readonly', () => {
    const data = path.join(work, 'data');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'greeting'), 'hello\n');
    const bind = run(['--mount', 'type=bind,src=./data,dst=/data,readonly'], ['sh', '-c', 'cat /data/greeting; touch /data/new 2>/dev/null || echo read-only']);
    expect(bind).toEqual({ status: 0, stdout: 'hello\nread-only\n', stderr: '' });
    const writable = run(['--mount', `type=bind,source=${data},destination=/data`], ['sh', '-c', 'echo written > /data/new']);
    expect(writable.status).toBe(0);
    expect(fs.readFileSync(path.join(data, 'new'), 'utf8')).toBe('written\n');
    const tmpfs = run(['--mount', 'type=tmpfs,dst=/scratch,tmpfs-size=1m'], ['sh', '-c', "df -k /scratch | awk 'NR==2 { print $2 }'"]);
    expect(tmpfs).toMatchObject({ status: 0, stdout: '1024\n' });
    // -v's short form still works there.
    expect(run(['--mount', `${data}:/data:ro`], ['cat', '/data/greeting'])).toMatchObject({ status: 0, stdout: 'hello\n' });
    for (const [spec, message] of [
      ['type=bind,dst=/data', '--mount: type=bind needs src='],
      ['type=nfs,dst=/data', "--mount: unknown mount type 'nfs'"],
      ['type=tmpfs,dst=relative', '--mount: target: expected an absolute path'],
    ]) {
      const r = run(['--mount', spec], ['true']);
      expect([spec, r.status]).toEqual([spec, 125]);
      expect(r.stderr).toContain(message);
    }
  });

  test('--entrypoint: the program, with the words after it as its arguments', () => {
    expect(run(['--entrypoint', 'echo'], ['hello', 'world'])).toEqual({ status: 0, stdout: 'hello world\n', stderr: '' });
  });

  test('--cap-add and --cap-drop change the default set; an unknown name is refused', () => {
    const NET_ADMIN = 1n << 12n;
    const CHOWN = 1n << 0n;
    const plain = capEff([]);
    expect(plain & NET_ADMIN).toBe(0n);
    expect(plain & CHOWN).toBe(CHOWN);
    expect(capEff(['--cap-add', 'NET_ADMIN']) & NET_ADMIN).toBe(NET_ADMIN);
    expect(capEff(['--cap-drop', 'chown']) & CHOWN).toBe(0n);
    expect(run(['--cap-drop', 'CHOWN'], ['sh', '-c', 'touch /tmp/f; chown 1 /tmp/f'])).toMatchObject({ status: 1 });
    const bad = run(['--cap-add', 'NOT_A_CAP'], ['true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toContain('--cap-add: unknown capability "NOT_A_CAP"');
  });

  test('--privileged: every capability, no seccomp, /sys writable, and a warning', () => {
    const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    const r = run(['--privileged'], ['sh', '-c', "grep -E '^(CapEff|Seccomp):' /proc/self/status | tr -s '\\t' ' '; awk '$5 == \"/sys\" { print substr($6, 1, 2) }' /proc/self/mountinfo"]);
    expect(r).toMatchObject({ status: 0, stdout: `CapEff: ${bounding}\nSeccomp: 0\nrw\n` });
    expect(r.stderr).toMatch(/^WARNING: --privileged: /);
  });

  test('--env-file: its variables, with -e after it winning', () => {
    fs.writeFileSync(path.join(work, 'app.env'), '# the app\nMODE=test\nGREETING=hello world\n\nFROM_HOST\n');
    const r = spawnSync(NODE, [CLI_JS, '--root', stateRoot, 'run', '--rm', '--rootfs', rootfs, '--env-file', 'app.env', '-e', 'MODE=override', '--', 'sh', '-c', 'echo "$MODE|$GREETING|$FROM_HOST"'], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, FROM_HOST: 'copied' },
    });
    expect(r).toMatchObject({ status: 0, stdout: 'override|hello world|copied\n' });
    // A missing file is not tested here: Node 20 itself reads --env-file anywhere before `--` in
    // its argv and exits 9 first (test/cli-unit/docker-values.test.ts has the CLI's message).
  });

  test('--ulimit NAME=SOFT[:HARD]', () => {
    expect(run(['--ulimit', 'nofile=100:200'], ['sh', '-c', 'ulimit -n; ulimit -Hn'])).toMatchObject({ status: 0, stdout: '100\n200\n' });
    expect(run(['--ulimit', 'nofile=300'], ['sh', '-c', 'ulimit -n; ulimit -Hn'])).toMatchObject({ status: 0, stdout: '300\n300\n' });
    const bad = run(['--ulimit', 'nofile=10:5'], ['true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toContain('--ulimit: nofile: soft must not exceed hard');
  });

  test('--read-only: the rootfs cannot be written', () => {
    expect(run([], ['sh', '-c', 'touch /written && echo ok'])).toMatchObject({ status: 0, stdout: 'ok\n' });
    const r = run(['--read-only'], ['touch', '/written']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Read-only file system');
  });

  test('--stop-signal and --stop-timeout: how `stop ID` ends the container; wait prints the code', () => {
    const polite = uniqueId('stopsig');
    ok(['run', '-d', '--name', polite, '--rootfs', rootfs, '--stop-signal', 'USR1', '--', 'sh', '-c', 'trap "exit 3" USR1; while :; do sleep 0.1; done']);
    expect(ok(['stop', polite])).toBe(`${polite}\n`);
    expect(ok(['wait', polite])).toBe('3\n');
    const stubborn = uniqueId('stoptime');
    ok(['run', '-d', '--name', stubborn, '--rootfs', rootfs, '--stop-timeout', '1', '--', 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done']);
    expect(ok(['stop', stubborn])).toBe(`${stubborn}\n`);
    expect(ok(['wait', stubborn, polite])).toBe('137\n3\n');
    expect(ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).split('\n').filter((l) => l.startsWith(stubborn) || l.startsWith(polite)).map((l) => l.replace(/ \d+ seconds? ago| just now/, ''))).toEqual([
      `${stubborn} Exited (137)`,
      `${polite} Exited (3)`,
    ]);
    expect(ok(['rm', stubborn, polite])).toBe(`${stubborn}\n${polite}\n`);
  });
});

describe('ps, top, rm, wait, info, stats', () => {
  test('ps hides stopped containers unless -a; list shows all; --format fields, table and json', () => {
    const running = uniqueId('ps-run');
    const stopped = uniqueId('ps-stop');
    ok(['run', '-d', '--name', running, '--rootfs', rootfs, '--', 'sleep', '1000']);
    expect(cli(['run', '--name', stopped, '--rootfs', rootfs, '--', 'sh', '-c', 'exit 4']).status).toBe(4);

    expect(ok(['ps', '-q'])).toBe(`${running}\n`);
    expect(ok(['ps', '-aq']).split('\n').filter(Boolean).sort()).toEqual([running, stopped].sort());
    expect(ok(['list', '-q']).split('\n').filter(Boolean).sort()).toEqual([running, stopped].sort());

    const [header, ...rows] = ok(['ps']).trimEnd().split('\n');
    expect(header.split(/\s{3,}/)).toEqual(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`^${running}\\s+${rootfs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+sleep 1000\\s+.+\\s+Up .+\\s+${running}$`));

    expect(ok(['ps', '-a', '--format', '{{.ID}}|{{.State}}|{{.Command}}']).split('\n').filter(Boolean).sort()).toEqual(
      [`${running}|running|sleep 1000`, `${stopped}|stopped|sh -c 'exit 4'`].sort(),
    );
    const table = ok(['ps', '--format', 'table {{.Names}}\\t{{.Status}}']).trimEnd().split('\n');
    expect(table[0]).toMatch(/^NAMES\s{3,}STATUS$/);
    expect(table[1]).toMatch(new RegExp(`^${running}\\s{3,}Up `));
    const json = ok(['ps', '-a', '--format', 'json']).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(json.find((j) => j.ID === stopped)).toMatchObject({ Names: stopped, State: 'stopped', Status: expect.stringMatching(/^Exited \(4\) /), Image: rootfs });

    const bad = cli(['ps', '--format', '{{.Nope}}']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toContain("--format: unknown field '.Nope'");

    // top: the container's processes.
    const top = ok(['top', running]).trimEnd().split('\n');
    expect(top[0]).toMatch(/^PID\s+COMMAND$/);
    expect(top.slice(1).some((l) => l.endsWith('sleep 1000'))).toBe(true);

    // inspect: the container, found by id.
    const [inspected] = JSON.parse(ok(['inspect', running])) as Record<string, unknown>[];
    expect(inspected).toMatchObject({
      Type: 'container',
      id: running,
      Id: running,
      Name: `/${running}`,
      Path: 'sleep',
      Args: ['1000'],
      State: { status: 'running', Status: 'running', Running: true, Paused: false, Pid: expect.any(Number) },
      Config: { Hostname: running, User: '', Cmd: ['sleep', '1000'], WorkingDir: '/', StopSignal: 'SIGTERM', StopTimeout: 10 },
      HostConfig: { Privileged: false, CapAdd: [], CapDrop: [], ReadonlyRootfs: false },
    });
    const [exited] = JSON.parse(ok(['inspect', stopped])) as { State: Record<string, unknown> }[];
    expect(exited.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 4 });

    // rm: refuses a running one without -f, as docker rm.
    const refused = cli(['rm', running]);
    expect(refused.status).toBe(1);
    expect(ok(['rm', '-f', running, stopped])).toBe(`${running}\n${stopped}\n`);
    expect(ok(['ps', '-aq'])).toBe('');
  });

  test('info: the runtime, the kernel, cgroups, the roots and their counts', () => {
    const id = uniqueId('info');
    ok(['run', '-d', '--name', id, '--rootfs', rootfs, '--', 'sleep', '1000']);
    const info = JSON.parse(ok(['info', '--json'])) as Record<string, unknown>;
    expect(info).toMatchObject({
      runtime: 'ts-container',
      kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
      stateRoot,
      dataRoot,
      containers: { total: 1, running: 1, paused: 0, stopped: 0 },
      images: 0,
    });
    expect(['v1', 'v2', 'hybrid']).toContain(info.cgroupVersion);
    const text = ok(['info']);
    expect(text).toContain(`State root: ${stateRoot}\n`);
    expect(text).toContain('Containers: 1\n Running: 1\n');
    ok(['rm', '-f', id]);
  });

  test('stats: --no-stream reads once; without it, a reading a second until Ctrl-C', async () => {
    const id = uniqueId('stats');
    ok(['run', '-d', '--name', id, '--rootfs', rootfs, '-m', '64m', '--', 'sleep', '1000']);
    const once = ok(['stats', '--no-stream', id]).trimEnd().split('\n');
    expect(once[0].split(/\s{3,}/)).toEqual(['ID', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS', 'BLOCK I/O']);
    expect(once[1]).toMatch(new RegExp(`^${id}\\s+\\d+\\.\\d\\d%\\s+.+ / 64\\.0MiB`));
    // Without ids: every running container.
    expect(ok(['stats', '--no-stream']).split('\n')[1]).toMatch(new RegExp(`^${id}\\s`));

    const child = spawn(NODE, [CLI_JS, '--root', stateRoot, 'stats', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        // Two readings: two headers.
        if (out.split('\nID ').length >= 2 && out.startsWith('ID ')) resolve();
      });
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(out.split('\n').filter((l) => l.startsWith(`${id} `)).length).toBeGreaterThanOrEqual(2);
    ok(['rm', '-f', id]);
  });
});

describe("docker's exit statuses", () => {
  test('the program\'s code; 125, 126, 127; 128+n and 137 for a signal', () => {
    expect(run([], ['sh', '-c', 'exit 3']).status).toBe(3);
    expect(run(['--no-such-flag'], ['true']).status).toBe(125);
    expect(run(['-m', 'lots'], ['true']).status).toBe(125);
    expect(run([], ['/etc/passwd']).status).toBe(126);
    expect(run([], ['no-such-program']).status).toBe(127);
    // PID 1 ignores signals it has no handler for: with --init, the shell is not PID 1.
    expect(run(['--init'], ['sh', '-c', 'kill -TERM $$']).status).toBe(143);
    expect(run(['--init'], ['sh', '-c', 'kill -KILL $$']).status).toBe(137);
  });
});
