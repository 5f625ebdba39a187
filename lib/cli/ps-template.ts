/**
 * `ps --format`: docker's Go-template-like text, reduced to what docker users type: `{{.Field}}`
 * placeholders, `\t` and `\n` as written on a command line, and a leading `table` that prints
 * a header and aligns the tab-separated columns. Pure: checked at parse time (unknown fields
 * are a usage error) and rendered by commands/ps.ts.
 */

/** The fields of one row, as docker ps names them, with their table headers. */
export const PS_FIELDS = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Status: 'STATUS',
  State: 'STATE',
  Ports: 'PORTS',
  Pid: 'PID',
} as const;

export type PsField = keyof typeof PS_FIELDS;
export type PsRow = Record<PsField, string>;

/** docker ps's own columns. */
export const DEFAULT_PS_FORMAT = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';

const PLACEHOLDER = /\{\{\s*\.([A-Za-z]+)\s*\}\}/g;

export interface PsTemplate {
  table: boolean;
  /** The row template, escapes turned into the characters they name. */
  body: string;
}

/** Parses a --format text; throws an Error naming what is wrong. */
export function parsePsTemplate(format: string): PsTemplate {
  const table = /^table(\s|$)/.test(format);
  const body = (table ? format.replace(/^table\s?/, '') : format).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const withoutFields = body.replace(PLACEHOLDER, (_whole, name: string) => {
    if (!(name in PS_FIELDS)) throw new Error(`unknown field '.${name}' (known: ${Object.keys(PS_FIELDS).map((f) => `.${f}`).join(' ')})`);
    return '';
  });
  if (withoutFields.includes('{{')) throw new Error(`only {{.Field}} placeholders are understood, got '${format}'`);
  return { table, body };
}

function fill(body: string, value: (field: PsField) => string): string {
  return body.replace(PLACEHOLDER, (_whole, name: string) => value(name as PsField));
}

/** Columns of a table padded to their widest cell, three spaces apart. */
function align(lines: string[][]): string {
  const widths: number[] = [];
  for (const cells of lines) cells.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return lines.map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n');
}

/** The rows as the template says, each ending with a newline. */
export function renderPs(template: PsTemplate, rows: readonly PsRow[]): string {
  if (!template.table) return rows.map((row) => `${fill(template.body, (f) => row[f])}\n`).join('');
  const header = fill(template.body, (f) => PS_FIELDS[f]);
  const lines = [header, ...rows.map((row) => fill(template.body, (f) => row[f]))].map((line) => line.split('\t'));
  return `${align(lines)}\n`;
}
