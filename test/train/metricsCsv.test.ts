// metrics.csv through csv-stringify / csv-parse: byte for byte the committed results/quickstart/*-metrics.csv, the
// same lines as the trainer's hand-written ones, and a resumed run's truncation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CrossflowError } from '../../lib/errors';
import { repoPath } from '../../lib/paths';
import { METRICS_COLUMNS, metricsCsvHeader, metricsCsvLine, MetricsRow, readCsv, readMetricsCsv, truncateMetricsCsv } from '../../lib/train/metricsCsv';
import { lossFigure } from '../../lib/notebooks/quickstart';
import { CSV_COLUMNS } from '../../lib/train/trainer';

const COMMITTED = ['small-metrics.csv', 'fm-small-metrics.csv'].map((f) => repoPath('results', 'quickstart', f));

function rowsOf(file: string): MetricsRow[] {
  const m = readMetricsCsv(file);
  return m.step.map((step, i) => ({
    step, phase: m.phase[i], lr: m.lr[i], loss: m.loss[i], flow: m.flow[i], enc: m.enc[i], kl: m.kl[i], gradNorm: m.grad_norm[i], uncond: m.uncond[i], seconds: m.seconds[i],
  }));
}

test('the committed metrics files read into numbers and write back byte for byte', () => {
  for (const file of COMMITTED) {
    const text = fs.readFileSync(file, 'utf8');
    const rows = rowsOf(file);
    assert.equal(rows.length, text.trim().split('\n').length - 1, file);
    assert.equal(metricsCsvHeader() + rows.map(metricsCsvLine).join(''), text, file);
  }
  const first = rowsOf(COMMITTED[0])[0];
  assert.deepEqual(first, { step: 1, phase: 'joint', lr: 1e-5, loss: 6.596866130828857, flow: 2.332803249359131, enc: 4.157412052154541, kl: 10.665071487426758, gradNorm: 2.6574110984802246, uncond: 14, seconds: 5.27 });
  // The notebook's loss figure reads the same columns.
  const fig = lossFigure(COMMITTED[0]);
  assert.equal((fig.data[0].x as number[]).length, rowsOf(COMMITTED[0]).length);
});

test("a line is the trainer's hand-joined line, for the awkward numbers too", () => {
  assert.deepEqual(METRICS_COLUMNS, CSV_COLUMNS, 'the columns trainer.ts writes');
  const cases: MetricsRow[] = [
    { step: 7, phase: 'joint', lr: 3e-4, loss: 0.1 + 0.2, flow: 1e-7, enc: -2.5, kl: 123456789.123, gradNorm: NaN, uncond: 0, seconds: 12.345 },
    { step: 4000, phase: 've', lr: 1 / 3, loss: Infinity, flow: -0, enc: 5e21, kl: 0, gradNorm: 1.5, uncond: 3, seconds: 0.005 },
  ];
  for (const r of cases) {
    // lib/train/trainer.ts, the appendFileSync in its step loop:
    const trainer = [r.step, r.phase, r.lr.toExponential(4), r.loss, r.flow, r.enc, r.kl, r.gradNorm, r.uncond, r.seconds.toFixed(2)].join(',') + '\n';
    assert.equal(metricsCsvLine(r), trainer);
  }
  assert.equal(metricsCsvHeader(), CSV_COLUMNS.join(',') + '\n');
});

test('truncation keeps the rows up to the checkpoint step, drops a line cut short, and keeps the format', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cf-metrics-')), 'metrics.csv');
  const rows = rowsOf(COMMITTED[0]).slice(0, 12);
  const full = metricsCsvHeader() + rows.map(metricsCsvLine).join('');
  // Killed while appending step 13: "1" is all of it that reached the disk (as a step number it would look like step 1).
  fs.writeFileSync(file, full + '1');
  truncateMetricsCsv(file, 12);
  assert.equal(fs.readFileSync(file, 'utf8'), full);
  truncateMetricsCsv(file, 10);
  assert.equal(fs.readFileSync(file, 'utf8'), metricsCsvHeader() + rows.slice(0, 10).map(metricsCsvLine).join(''));
  truncateMetricsCsv(file, 0);
  assert.equal(fs.readFileSync(file, 'utf8'), metricsCsvHeader());
  assert.deepEqual(readMetricsCsv(file).step, []);
  truncateMetricsCsv(path.join(path.dirname(file), 'absent.csv'), 3); // nothing to truncate: no file made
  assert.ok(!fs.existsSync(path.join(path.dirname(file), 'absent.csv')));
});

test('quoted fields are read as CSV; a malformed file is an error naming it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-csv-'));
  const ok = path.join(dir, 'ok.csv');
  fs.writeFileSync(ok, 'name,note\n"a, b","say ""hi"""\n\n');
  assert.deepEqual(readCsv(ok), { columns: ['name', 'note'], rows: [['a, b', 'say "hi"']] });
  const bad = path.join(dir, 'bad.csv');
  fs.writeFileSync(bad, 'step,loss\n1,0.5\n2\n');
  assert.throws(() => readMetricsCsv(bad), (err: Error) => err instanceof CrossflowError && err.message.startsWith(`${bad} is not a readable CSV file:`));
  assert.deepEqual(readCsv(bad, { dropIncomplete: true }).rows, [['1', '0.5']]);
});
