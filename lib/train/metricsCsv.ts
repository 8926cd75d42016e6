// metrics.csv of a run directory: a header, then one row per training step. Written with csv-stringify and read
// with csv-parse, in the format of the committed results/quickstart/*-metrics.csv (lr as 1.0000e-5, seconds with
// two decimals, every other number as JavaScript prints it).
import * as fs from 'fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { CrossflowError } from '../errors';

export const METRICS_COLUMNS = ['step', 'phase', 'lr', 'loss', 'flow', 'enc', 'kl', 'grad_norm', 'uncond', 'seconds'];

/** One training step's numbers, as the trainer has them. */
export interface MetricsRow {
  step: number;
  phase: string;
  lr: number;
  loss: number;
  flow: number;
  enc: number;
  kl: number;
  gradNorm: number;
  uncond: number;
  /** Training time so far. */
  seconds: number;
}

/** The header line (with its newline). */
export function metricsCsvHeader(): string {
  return stringify([METRICS_COLUMNS]);
}

/** One step's line (with its newline). */
export function metricsCsvLine(r: MetricsRow): string {
  return stringify([[r.step, r.phase, r.lr.toExponential(4), r.loss, r.flow, r.enc, r.kl, r.gradNorm, r.uncond, r.seconds.toFixed(2)]]);
}

/**
 * A CSV file with a header row, as strings. `dropIncomplete`: rows with fewer or more fields than the header (a line
 * cut short when a run was killed mid-write) are left out instead of being an error.
 */
export function readCsv(file: string, opts: { dropIncomplete?: boolean } = {}): { columns: string[]; rows: string[][] } {
  let records: string[][];
  try {
    records = parse(fs.readFileSync(file, 'utf8'), { skip_empty_lines: true, relax_column_count: !!opts.dropIncomplete }) as string[][];
  } catch (err) {
    throw new CrossflowError(`${file} is not a readable CSV file: ${(err as Error).message}`);
  }
  const [columns = [], ...rows] = records;
  return { columns, rows: opts.dropIncomplete ? rows.filter((r) => r.length === columns.length) : rows };
}

/** metrics.csv as columns: numbers, except `phase`. */
export function readMetricsCsv(file: string): Record<string, number[]> & { phase: string[] } {
  const { columns, rows } = readCsv(file);
  const out: Record<string, number[]> = {};
  const phase: string[] = [];
  for (const c of columns) if (c !== 'phase') out[c] = [];
  for (const r of rows) columns.forEach((c, i) => (c === 'phase' ? phase.push(r[i]) : out[c].push(Number(r[i]))));
  return Object.assign(out, { phase });
}

/** Keeps the rows up to `step` (a resumed run rewrites what came after its checkpoint); a cut-short row goes too. */
export function truncateMetricsCsv(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const { columns, rows } = readCsv(file, { dropIncomplete: true });
  fs.writeFileSync(file, stringify([columns, ...rows.filter((r) => Number(r[0]) <= step)]));
}
