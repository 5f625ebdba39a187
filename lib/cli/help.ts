/**
 * The help text of every command (`ts-container COMMAND --help`, `ts-container help COMMAND`).
 * The general one and run's live next to run's parser in parse-args.ts.
 */
import { MAIN_HELP, RUN_HELP } from './parse-args';
import type { HelpTopic } from './usage-error';

const ID_NOTE = `Containers are looked up in the state directory (global --root DIR, or
$TS_CONTAINER_STATE_ROOT). An unknown ID exits with status 1.`;

const COMMAND_HELP: Record<Exclude<HelpTopic, 'main' | 'run'>, string> = {
  create: `Usage: ts-container create [OPTIONS] [--] COMMAND [ARG...]

Create a detached container that runs COMMAND once 'ts-container start ID' is
given: its namespaces, mounts and cgroup are made now, and its program waits.
Prints the container's id.

Options: those of 'ts-container run' (see run --help), --name ID among them;
not -d (a created container is always detached), --rm or --usage.

Example:
  id=$(ts-container create --name web -- sh -c 'echo started; sleep 1000')
  ts-container start "$id"
`,

  start: `Usage: ts-container start ID

Start a created container. A stopped container is made again from the options
it was created with and started, as docker start does. Prints the id.

${ID_NOTE}
`,

  exec: `Usage: ts-container exec [OPTIONS] ID COMMAND [ARG...]

Run COMMAND in the running container ID (its namespaces, cgroup, rootfs and
user), with this terminal's stdout and stderr, and exit with its status.

Options:
  -e, --env KEY=VALUE     Set an environment variable; '-e KEY' copies it from here (repeatable)
  -u, --user UID[:GID]    Run as this numeric user id and group id
  -w, --workdir DIR       Working directory inside the container
  -i, --interactive       Pass stdin to COMMAND (default: COMMAND reads an empty stdin);
                          with -t, type into its terminal (for a shell: -it)
  -t, --tty               Give COMMAND a terminal of this terminal's size (stderr goes to it too)
  -h, --help              Show this help

Exit status: COMMAND's own; 126 when it cannot be executed, 127 when it is not
found, 125 when ts-container fails, 1 when ID is unknown or not running.

Example:
  ts-container exec -it web sh
`,

  list: `Usage: ts-container list [OPTIONS]
       ts-container ls [OPTIONS]

List the containers of the state directory, with their status: created,
running, paused, stopped (with the exit status), or unknown when the state
cannot be read.

Options:
      --json      Print the entries as a JSON array
  -q, --quiet     Print only the ids
  -h, --help      Show this help
`,

  ps: `Usage: ts-container ps [OPTIONS] ID

List the processes of container ID (host pids and command lines).

Options:
      --json      Print a JSON array of { pid, command }
  -h, --help      Show this help

${ID_NOTE}
`,

  stats: `Usage: ts-container stats [OPTIONS] ID...

Show what running containers use, from their cgroups: CPU (measured over half a second),
memory against its limit, processes against their limit, and block I/O.

Options:
      --json      Print a JSON array of { id, cpuPercent, stats } (stats as Container.stats())
  -h, --help      Show this help

${ID_NOTE}
`,

  state: `Usage: ts-container state ID

Print the state of container ID as JSON, as runc state does: ociVersion, id,
status, pid, bundle, annotations, and when it was created, started, finished.

${ID_NOTE}
`,

  logs: `Usage: ts-container logs [OPTIONS] ID

Print what the detached container ID has written: its stdout on stdout, its
stderr on stderr. On a terminal, control characters are shown escaped (ESC as
\\x1b; newlines, tabs and \\r\\n line ends as they are), so the container's
output cannot drive the terminal; a pipe or file gets the bytes unchanged.

Options:
  -f, --follow    Keep printing new output until the container stops for good
                  (Ctrl-C ends it), also across the log's rotation
      --raw       Write the bytes unchanged also to a terminal
  -h, --help      Show this help

${ID_NOTE}
`,

  kill: `Usage: ts-container kill [OPTIONS] ID [SIGNAL]

Send SIGNAL (default SIGKILL, as docker kill) to every process of container ID.
SIGNAL is a name with or without SIG (KILL, SIGHUP) or a number. Prints the id.

Options:
  -s, --signal SIGNAL   The signal, as docker kill takes it
  -h, --help            Show this help

${ID_NOTE}
`,

  stop: `Usage: ts-container stop [OPTIONS] ID...

Stop each container: SIGTERM to its main process, SIGKILL to all of it after
the timeout. A restart policy does not bring it back. Prints each id.

Options:
  -t, --time SECONDS    Seconds to wait before SIGKILL (default 10)
  -h, --help            Show this help

${ID_NOTE}
`,

  pause: `Usage: ts-container pause ID

Freeze every process of container ID (its cgroup's freezer) until resume.
Prints the id.

${ID_NOTE}
`,

  resume: `Usage: ts-container resume ID

Thaw the paused container ID. Prints the id.

${ID_NOTE}
`,

  delete: `Usage: ts-container delete [OPTIONS] ID...

Delete each container: its processes, cgroup and state directory. A running or
paused container is refused, as runc does, unless -f is given. Prints each id.

Options:
  -f, --force     Kill a container that still runs, then delete it
  -h, --help      Show this help

${ID_NOTE}
`,
};

export function helpText(topic: HelpTopic): string {
  if (topic === 'main') return MAIN_HELP;
  if (topic === 'run') return RUN_HELP;
  return COMMAND_HELP[topic];
}
