// Frechet distance against closed forms and scipy.linalg.sqrtm (the route pytorch-fid takes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { fidFromFeatures, frechetDistance, gaussianStats, sqrtmPsd, fidName } from '../../lib/eval/fid';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b}`);

/** Deterministic features shared with the Python reference script (see the comment in the test). */
function feats(n: number, d: number, off: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) {
    out[i * d + j] = Math.sin(i * 1.3 + j * 0.7 + off) + 0.5 * Math.cos(i * 0.37 * (j + 1)) + 0.1 * j * off;
  }
  return out;
}

test('identical feature sets give 0', () => {
  const x = feats(64, 8, 0.3);
  close(fidFromFeatures(x, 64, x, 64, 8), 0, 1e-6);
});

test('1-D Gaussians: (mu1 - mu2)^2 + (s1 - s2)^2', () => {
  const a = gaussianStats([1, 2, 3, 4], 4, 1); // mean 2.5, var 5/3
  const b = gaussianStats([10, 14, 18], 3, 1); // mean 14, var 16
  close(frechetDistance(a, b), (2.5 - 14) ** 2 + (Math.sqrt(5 / 3) - 4) ** 2, 1e-10);
});

test('diagonal covariances: |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2', () => {
  const va = [1, 4, 9, 0.25];
  const vb = [4, 1, 2, 0.25];
  const mk = (mu: number[], v: number[]) => ({ mu: Float64Array.from(mu), sigma: Matrix.diag(v), n: 2 });
  const expected = 1 + 4 + 0 + 0.25 + va.reduce((s, a, i) => s + (Math.sqrt(a) - Math.sqrt(vb[i])) ** 2, 0);
  close(frechetDistance(mk([0, 0, 1, 2], va), mk([1, 2, 1, 2.5], vb)), expected, 1e-10);
});

test('general case matches scipy.linalg.sqrtm', () => {
  // numpy/scipy: x_ij = sin(1.3 i + 0.7 j + off) + 0.5 cos(0.37 i (j+1)) + 0.1 j off; x = feats(50, 6, 0),
  // y = feats(40, 6, 1); m = mean, s = np.cov(rowvar=False); covmean = sqrtm(s1 @ s2).real;
  // |m1 - m2|^2 + tr(s1) + tr(s2) - 2 tr(covmean) = 0.5282568861383901 (scipy 1.17).
  close(fidFromFeatures(feats(50, 6, 0), 50, feats(40, 6, 1), 40, 6), 0.5282568861383901, 1e-9);
});

test('sqrtm of a rank-deficient PSD matrix: tiny negative eigenvalues are clamped, S^(1/2) S^(1/2) = S', () => {
  const v = new Matrix([[1, 2, 3], [2, 4, 6.000000000001], [3, 6, 9]]); // rank 1 up to round-off
  const r = sqrtmPsd(v);
  const back = r.mmul(r);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) close(back.get(i, j), v.get(i, j), 1e-6);
  assert.ok(!Number.isNaN(r.get(0, 0)));
  assert.equal(fidName(1000), 'FID-1K');
  assert.equal(fidName(5000), 'FID-5K');
  assert.equal(fidName(256), 'FID-256');
});
