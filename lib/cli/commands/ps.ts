/**
 * `ts-container ps [-a] [-q] [--format F]`: the containers of the state directory as docker ps
 * shows them: not the stopped ones unless -a, in docker's columns or a --format of its fields.
 */
import { constants as osConstants } from 'node:os';
import { healthSuffix } from './health-format';
import { Container } from '../../container/container';
import type { ContainerConfig } from '../../options/validate';
import type { ContainerListEntry } from '../../state/types';
import type { PsCommand } from '../parsed';
import { EXIT_RUNTIME_ERROR } from '../parsed';
import { DEFAULT_PS_FORMAT, parsePsTemplate, renderPs, type PsRow } from '../ps-template';
import { report, type CommandIO } from './common';
import { COMMAND_WIDTH, formatCommand, relativeTime, truncate } from './format';

/** "5 seconds" from "5 seconds ago"; docker says "Less than a second" for the first one. */
function since(iso: string | undefined, now: Date): string {
  const text = relativeTime(iso, now);
  return text === 'just now' ? 'Less than a second' : text.replace(/ ago$/, '');
}

/** docker's STATUS: "Up 5 minutes", "Up 2 hours (Paused)", "Exited (137) 3 seconds ago", "Created". */
export function dockerStatus(entry: ContainerListEntry, now: Date): string {
  if (entry.error !== undefined) return `Unknown (${entry.error})`;
  switch (entry.status) {
    case 'running':
      return `Up ${since(entry.startedAt ?? entry.created, now)}${healthSuffix(entry)}`;
    case 'paused':
      return `Up ${since(entry.startedAt ?? entry.created, now)} (Paused)`;
    case 'created':
      return 'Created';
    case 'creating':
      return 'Creating';
    case 'stopped': {
      const n = entry.signal ? (osConstants.signals as Record<string, number | undefined>)[entry.signal] : undefined;
      const code = entry.exitCode ?? (n !== undefined ? 128 + n : undefined);
      return `Exited${code === undefined ? '' : ` (${code})`} ${relativeTime(entry.finishedAt ?? entry.created, now)}`;
    }
  }
}

/** "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp", as docker's PORTS. */
function portsText(config: ContainerConfig | undefined): string {
  return (config?.ports ?? []).map((p) => `${p.hostIp}:${p.host}->${p.container}/${p.protocol}`).join(', ');
}

/** The image a container was made from, else its rootfs (the host's / is "host /"). */
function imageText(entry: ContainerListEntry, config: ContainerConfig | undefined): string {
  if (entry.error !== undefined) return '-';
  return config?.image?.reference ?? config?.image?.id ?? entry.rootfs ?? 'host /';
}

async function configOf(id: string, stateRoot: string | undefined): Promise<ContainerConfig | undefined> {
  try {
    return (await Container.get(id, stateRoot === undefined ? {} : { stateRoot })).config;
  } catch {
    // Removed meanwhile, or a state the list could read and get() cannot: the row stays, without them.
    return undefined;
  }
}

async function rowOf(entry: ContainerListEntry, stateRoot: string | undefined, now: Date, wholeCommand: boolean): Promise<PsRow> {
  const config = entry.error === undefined ? await configOf(entry.id, stateRoot) : undefined;
  const command = entry.error === undefined ? formatCommand(entry.command) : '-';
  return {
    ID: entry.id,
    Names: entry.id,
    Image: imageText(entry, config),
    Command: wholeCommand ? command : truncate(command, COMMAND_WIDTH),
    CreatedAt: entry.error === undefined ? entry.created : '-',
    RunningFor: entry.error === undefined ? relativeTime(entry.created, now) : '-',
    Status: dockerStatus(entry, now),
    State: entry.status,
    Ports: portsText(config),
    Pid: entry.error === undefined && entry.pid > 0 ? String(entry.pid) : '',
  };
}

export async function psCommand(cmd: PsCommand, io: CommandIO): Promise<number> {
  let entries: ContainerListEntry[];
  try {
    entries = await Container.list(cmd.stateRoot === undefined ? {} : { stateRoot: cmd.stateRoot });
  } catch (err) {
    report(io, `cannot list containers: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_RUNTIME_ERROR;
  }
  if (!cmd.all) entries = entries.filter((e) => e.status !== 'stopped');
  // Newest first, as docker ps.
  const created = (e: ContainerListEntry): number => (e.error === undefined ? Date.parse(e.created) : -Infinity);
  entries = [...entries].sort((a, b) => created(b) - created(a) || a.id.localeCompare(b.id));
  if (cmd.quiet) {
    io.stdout.write(entries.map((e) => `${e.id}\n`).join(''));
    return 0;
  }
  const now = new Date();
  const custom = cmd.format !== undefined && cmd.format !== 'json';
  const rows = await Promise.all(entries.map((e) => rowOf(e, cmd.stateRoot, now, cmd.format === 'json' || custom)));
  if (cmd.format === 'json') io.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  else io.stdout.write(renderPs(parsePsTemplate(cmd.format ?? DEFAULT_PS_FORMAT), rows));
  return 0;
}
