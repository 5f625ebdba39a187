/**
 * A before/after table of the phases section, as Markdown: each phase's median and p95 in two
 * runs (e.g. the same bench on two commits), and the change of its median.
 *
 *   npx tsx bench/phases-compare.ts BEFORE.json AFTER.json
 *
 * Each file is either a bench result (`npm run bench -- --only phases --out FILE`: its `phases`)
 * or what `npx tsx bench/phases.ts --json` prints. A phase only one run has shows "-" in the other.
 * The helper's own steps (`helperRows`) follow as "helper: <step>" rows when either run has them.
 */
import * as fs from 'node:fs';
import type { PhaseRow, PhasesResult } from './phases';
import { formatConditions } from './host-conditions';

function readPhases(file: string): PhasesResult {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as PhasesResult & { phases?: PhasesResult | null };
  const result = json.phases ?? (Array.isArray(json.rows) && json.spawn ? json : null);
  if (!result) throw new Error(`${file}: no phases (run the bench with --only phases)`);
  return result;
}

const fmt = (v: number | undefined) => (v === undefined ? '-' : v >= 10 ? v.toFixed(1) : v.toFixed(3));

function change(before: number | undefined, after: number | undefined): string {
  if (before === undefined || after === undefined) return '-';
  const d = after - before;
  return `${d >= 0 ? '+' : ''}${fmt(d)}`;
}

/** The phases of two runs' rows in the order they happen: the after run's, with the before run's alone placed after the phase that precedes them there. */
function inOrder(before: PhaseRow[], after: PhaseRow[]): string[] {
  const order = after.map((r) => r.phase);
  before.forEach((r, i) => {
    if (order.includes(r.phase)) return;
    const prev = i > 0 ? order.indexOf(before[i - 1].phase) : -1;
    order.splice(prev + 1, 0, r.phase);
  });
  return order;
}

export function comparePhases(before: PhasesResult, after: PhasesResult): string {
  const lines = [
    `| phase (ended by) | before median ms | before p95 ms | after median ms | after p95 ms | median change ms |`,
    '|---|---:|---:|---:|---:|---:|',
  ];
  const addRows = (b: PhaseRow[], a: PhaseRow[], label: (phase: string) => string) => {
    for (const phase of inOrder(b, a)) {
      const x = b.find((r) => r.phase === phase);
      const y = a.find((r) => r.phase === phase);
      lines.push(`| ${label(phase)} | ${fmt(x?.medianMs)} | ${fmt(x?.p95Ms)} | ${fmt(y?.medianMs)} | ${fmt(y?.p95Ms)} | ${change(x?.medianMs, y?.medianMs)} |`);
    }
  };
  addRows(before.rows, after.rows, (phase) => phase);
  // Inside 'helper report': the helper's own marks (bench/phases.ts), when either run has them.
  if (before.helperRows || after.helperRows) addRows(before.helperRows ?? [], after.helperRows ?? [], (phase) => `helper: ${phase}`);
  for (const [label, key] of [['spawn (to wait() resolved)', 'spawn'], ['destroy (to destroy() resolved)', 'destroy']] as const) {
    const b = before[key];
    const a = after[key];
    lines.push(`| **${label}** | ${fmt(b.medianMs)} | ${fmt(b.p95Ms)} | ${fmt(a.medianMs)} | ${fmt(a.p95Ms)} | ${change(b.medianMs, a.medianMs)} |`);
  }
  const where = (r: PhasesResult) => `${r.iterations} runs ${r.conditions ? formatConditions(r.conditions) : `on ${r.cpus} CPUs`}`;
  lines.push('', `Before: ${where(before)}. After: ${where(after)}.`);
  return lines.join('\n');
}

if (require.main === module) {
  const [beforeFile, afterFile] = process.argv.slice(2);
  if (!beforeFile || !afterFile) {
    process.stderr.write('usage: npx tsx bench/phases-compare.ts BEFORE.json AFTER.json\n');
    process.exitCode = 2;
  } else {
    try {
      process.stdout.write(`${comparePhases(readPhases(beforeFile), readPhases(afterFile))}\n`);
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}
