// Tables as HTML: danfojs DataFrames (danfojs-node renders none itself) and plain arrays of
// records. Every cell is escaped; numbers are formatted for reading and right-aligned.
import { displayBundle } from './inline';

/** What this module reads from a danfojs DataFrame (duck-typed, so danfojs is not loaded here). */
export interface DataFrameLike {
  columns: string[];
  values: unknown[] | unknown[][];
  index: Array<string | number>;
}

/** A DataFrame, or records (plain objects or interface-typed ones): columns are the union of their keys. */
export type TableInput = DataFrameLike | ReadonlyArray<object>;

export interface TableOptions {
  /** Shown above the table. */
  caption?: string;
  /** Show the DataFrame index as the first column (default: true for DataFrames whose index is not 0..n-1). */
  showIndex?: boolean;
  /** Significant digits for non-integers (default 4). */
  digits?: number;
  /** Rows shown at most; the rest is summarised in one line (default 200). */
  maxRows?: number;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Integers as they are; other numbers to `digits` significant digits, switching to exponent
 * notation for very large or small magnitudes (1.234e-5), without trailing zeros.
 */
export function formatNumber(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const magnitude = Math.abs(x);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) {
    const [mantissa, exponent] = x.toExponential(digits - 1).split('e');
    return `${String(Number(mantissa))}e${exponent.replace('+', '')}`;
  }
  return String(Number(x.toPrecision(digits)));
}

function formatCell(value: unknown, digits: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value, digits);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function isDataFrame(x: TableInput): x is DataFrameLike {
  return !Array.isArray(x) && Array.isArray((x as DataFrameLike).columns) && Array.isArray((x as DataFrameLike).index);
}

/** Column names and row arrays of either input kind. */
export function tableRows(input: TableInput): { columns: string[]; rows: unknown[][]; index: Array<string | number> | null } {
  if (isDataFrame(input)) {
    // A one-column frame's values can come back flat.
    const rows = (input.values as unknown[]).map((r) => (Array.isArray(r) ? r : [r]));
    const defaultIndex = input.index.every((v, i) => v === i);
    return { columns: input.columns.map(String), rows, index: defaultIndex ? null : input.index };
  }
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const record of input) {
    for (const key of Object.keys(record)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  return { columns, rows: input.map((record) => columns.map((c) => (record as Record<string, unknown>)[c])), index: null };
}

/** A self-contained HTML table (inline styles, so it looks the same in notebooks and exports). */
export function tableHtml(input: TableInput, opts: TableOptions = {}): string {
  const { columns, rows, index } = tableRows(input);
  const digits = opts.digits ?? 4;
  const maxRows = opts.maxRows ?? 200;
  const showIndex = opts.showIndex ?? index !== null;
  const indexValues = index ?? rows.map((_, i) => i);
  const numeric = columns.map((_, j) => rows.length > 0 && rows.every((r) => r[j] == null || typeof r[j] === 'number'));
  const cellStyle = 'padding:3px 10px;border-bottom:1px solid #ddd;';
  const th = (text: string, right: boolean) =>
    `<th style="padding:3px 10px;border-bottom:2px solid #444;text-align:${right ? 'right' : 'left'}">${escapeHtml(text)}</th>`;
  const td = (text: string, right: boolean) =>
    `<td style="${cellStyle}text-align:${right ? 'right' : 'left'}${right ? ';font-variant-numeric:tabular-nums' : ''}">${escapeHtml(text)}</td>`;
  const head = (showIndex ? th('', false) : '') + columns.map((c, j) => th(c, numeric[j])).join('');
  const body = rows
    .slice(0, maxRows)
    .map((row, i) => {
      const indexCell = showIndex ? td(formatCell(indexValues[i], digits), false) : '';
      return `<tr>${indexCell}${row.map((v, j) => td(formatCell(v, digits), numeric[j])).join('')}</tr>`;
    })
    .join('\n');
  const more =
    rows.length > maxRows
      ? `<tr><td colspan="${columns.length + (showIndex ? 1 : 0)}" style="${cellStyle}color:#777">… ${rows.length - maxRows} more rows</td></tr>`
      : '';
  const caption = opts.caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(opts.caption)}</caption>`
    : '';
  return `<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px">${caption}<thead><tr>${head}</tr></thead><tbody>${body}${more}</tbody></table>`;
}

/** Shows the table inline in the notebook (returns nothing, so tslab prints nothing after it). */
export function showTable(input: TableInput, opts: TableOptions = {}): void {
  displayBundle({ 'text/html': tableHtml(input, opts) });
}
