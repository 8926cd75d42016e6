// Statistics of the ablation reports against hand computations and known distributions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCi, pairedDifference, summarize } from '../../lib/experiments/stats';
import { makeRng } from '../../lib/data/rng';

test('summarize: mean and sample sd by hand; one value has no sd and a point interval', () => {
  const s = summarize([2, 4, 4, 4, 5, 5, 7, 9], 'k');
  assert.equal(s.n, 8);
  assert.equal(s.mean, 5);
  // sum of squared deviations 32, n - 1 = 7
  assert.ok(Math.abs(s.sd - Math.sqrt(32 / 7)) < 1e-12);
  assert.ok(s.ci[0] < 5 && s.ci[1] > 5);
  const one = summarize([3.5], 'k');
  assert.ok(Number.isNaN(one.sd));
  assert.deepEqual(one.ci, [3.5, 3.5]);
  assert.equal(summarize([NaN, 1, 3], 'k').n, 2, 'non-finite values are left out');
});

test('bootstrap: constant values give a point interval; a large normal sample gives mean ± 1.96 sd / sqrt(n)', () => {
  for (const end of bootstrapCi([0.7, 0.7, 0.7], 'c')) assert.ok(Math.abs(end - 0.7) < 1e-12, `${end}`);
  const rng = makeRng('normal-sample');
  const n = 400;
  const v = Array.from({ length: n }, () => 10 + 2 * rng.normal());
  const s = summarize(v, 'big');
  const half = (1.96 * s.sd) / Math.sqrt(n);
  assert.ok(Math.abs(s.ci[0] - (s.mean - half)) < 0.1 * half, `lower ${s.ci[0]} vs ${s.mean - half}`);
  assert.ok(Math.abs(s.ci[1] - (s.mean + half)) < 0.1 * half, `upper ${s.ci[1]} vs ${s.mean + half}`);
  assert.deepEqual(bootstrapCi(v, 'big'), s.ci, 'the same key draws the same resamples');
});

test('paired difference: over shared seeds only, with verdicts from the interval and the metric direction', () => {
  const a = new Map([[0, 0.5], [1, 0.52], [2, 0.49], [3, 0.4]]);
  const b = new Map([[0, 0.6], [1, 0.63], [2, 0.61], [7, 0.9]]);
  const d = pairedDifference(a, b, true, 'p');
  assert.deepEqual(d.seeds, [0, 1, 2]);
  assert.ok(Math.abs(d.mean - (0.1 + 0.11 + 0.12) / 3) < 1e-12);
  assert.equal(d.verdict, 'better');
  assert.equal(pairedDifference(a, b, false, 'p').verdict, 'worse', 'for FID a higher value is worse');
  assert.equal(pairedDifference(b, a, true, 'p').verdict, 'worse');
  const noisy = pairedDifference(new Map([[0, 1], [1, 2], [2, 3]]), new Map([[0, 1.5], [1, 1.5], [2, 3]]), true, 'q');
  assert.equal(noisy.verdict, 'no difference', `differences 0.5, -0.5, 0: interval ${noisy.ci}`);
  assert.equal(pairedDifference(new Map([[0, 1], [1, 2]]), new Map([[0, 2], [1, 3]]), true, 'r').verdict, 'too few seeds');
});
