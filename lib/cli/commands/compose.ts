/**
 * `ts-container compose [-f FILE] [-p NAME] up [-d] | down [-v] | ps | logs [-f]`, over Stack
 * of the library. up without -d prints the services' output, each line after its service's
 * name, until every container has stopped or Ctrl-C (which stops them, as compose does).
 */
import { constants as osConstants } from 'node:os';
import { Stack, type StackLogRecord, type StackOptions } from '../../stacks/stack';
import type { ComposeCommand } from '../parsed';
import { EXIT_RUNTIME_ERROR } from '../parsed';
import { EXIT_CONTAINER_ERROR, defaultIO, onInterrupt, report, type CommandIO } from './common';
import { formatTable } from './format';

/** Exit status 1: a bad file, a missing image, network or volume, a dependency that failed. */
const USER_ERROR_CODES = new Set(['ESTACKFILE', 'ESTACKDEPENDENCY', 'ENOIMAGE', 'ENONETWORK', 'ENOVOLUME', 'EVOLUMEINUSE', 'ENETWORKINUSE']);

export async function composeCommand(cmd: ComposeCommand, io: Partial<CommandIO> = {}): Promise<number> {
  const out = defaultIO(io);
  const options: StackOptions = {
    ...(cmd.project !== undefined && { project: cmd.project }),
    ...(cmd.dataRoot !== undefined && { dataRoot: cmd.dataRoot }),
    ...(cmd.stateRoot !== undefined && { stateRoot: cmd.stateRoot }),
  };
  try {
    const stack = Stack.fromFile(cmd.file ?? process.cwd(), options);
    switch (cmd.verb) {
      case 'up':
        await stack.up();
        if (cmd.detach) {
          for (const service of stack.services) out.stderr.write(`Container ${stack.project}-${service}-1  Started\n`);
          return 0;
        }
        return await attach(stack, out);
      case 'down':
        await stack.down({ volumes: cmd.volumes });
        return 0;
      case 'ps': {
        const containers = await stack.ps();
        if (cmd.format === 'json') out.stdout.write(`${JSON.stringify(containers, null, 2)}\n`);
        else if (cmd.format === 'ids') out.stdout.write(containers.map((c) => `${c.id}\n`).join(''));
        else {
          const ports = (c: (typeof containers)[number]): string => c.ports.map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.host}->${p.container}/${p.protocol}`).join(', ');
          const status = (c: (typeof containers)[number]): string =>
            c.status === 'stopped' && c.exitCode !== undefined ? `exited (${c.exitCode ?? 'signal'})` : c.health ? `${c.status} (${c.health})` : c.status;
          out.stdout.write(formatTable(['NAME', 'SERVICE', 'IMAGE', 'STATUS', 'PORTS'], containers.map((c) => [c.id, c.service, c.image ?? '', status(c), ports(c)])));
        }
        return 0;
      }
      case 'logs':
        return await printLogs(stack, out, cmd.follow);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    report(out, err instanceof Error ? err.message : String(err));
    return code !== undefined && USER_ERROR_CODES.has(code) ? EXIT_CONTAINER_ERROR : EXIT_RUNTIME_ERROR;
  }
}

/** Each line of a service's output after its name, as compose prints them; a partial line waits for its end. */
function linePrinter(out: CommandIO, services: readonly string[]): { write(record: StackLogRecord): void; end(): void } {
  const width = Math.max(...services.map((s) => s.length));
  const partial = new Map<string, string>();
  const emit = (record: { service: string; stream: string }, line: string): void => {
    (record.stream === 'stderr' ? out.stderr : out.stdout).write(`${record.service.padEnd(width)}  | ${line}\n`);
  };
  return {
    write(record) {
      if (record.stream === 'dropped') {
        report(out, `${record.service}: ${record.droppedBytes ?? 0} bytes of output were dropped here`);
        return;
      }
      const key = `${record.service}\0${record.stream}`;
      const lines = ((partial.get(key) ?? '') + record.data.toString()).split('\n');
      partial.set(key, lines.pop() as string);
      for (const line of lines) emit(record, line);
    },
    end() {
      for (const [key, rest] of partial) {
        const [service, stream] = key.split('\0');
        if (rest) emit({ service, stream }, rest);
      }
    },
  };
}

async function printLogs(stack: Stack, out: CommandIO, follow: boolean, onSignal?: (signal: NodeJS.Signals) => void): Promise<number> {
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const removeHandlers = onInterrupt(out, (sig) => {
    interruptedBy ??= sig;
    onSignal?.(sig);
    controller.abort();
  });
  const printer = linePrinter(out, stack.services);
  try {
    for await (const record of stack.logs({ follow, signal: controller.signal })) printer.write(record);
  } catch (err) {
    if (interruptedBy === undefined) throw err;
  } finally {
    printer.end();
    removeHandlers();
  }
  return interruptedBy === undefined ? 0 : 128 + osConstants.signals[interruptedBy];
}

/** up without -d: the output until the services end; Ctrl-C stops them (kept: down removes them). */
async function attach(stack: Stack, out: CommandIO): Promise<number> {
  let stopping: Promise<void> | undefined;
  const status = await printLogs(stack, out, true, () => {
    out.stderr.write('Stopping...\n');
    stopping ??= stack.stop();
  });
  await stopping;
  return status;
}
