// PSNR, SSIM and depth metrics against scikit-image 0.19.3 and hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psnr } from '../../lib/eval/image/psnr';
import { ssim, ssimPlane, gaussianWindow } from '../../lib/eval/image/ssim';
import { depthMetrics } from '../../lib/eval/depth';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b}`);

// The pair used with scikit-image: a = (7x + 13y) mod 256, b = clip(round(a + 40 sin(0.9x + 0.4y))), 24x20.
const H = 24, W = 20;
function pair(): { a: Float64Array; b: Float64Array } {
  const a = new Float64Array(H * W);
  const b = new Float64Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    a[y * W + x] = (x * 7 + y * 13) % 256;
    // numpy rounds half to even; no value here lands exactly on .5
    b[y * W + x] = Math.min(255, Math.max(0, Math.round(a[y * W + x] + 40 * Math.sin(x * 0.9 + y * 0.4))));
  }
  return { a, b };
}

test('PSNR: hand value and scikit-image', () => {
  close(psnr([0, 0, 0, 0], [0, 0, 0, 10], 255), 10 * Math.log10((255 * 255) / 25), 1e-12);
  assert.equal(psnr([1, 2], [1, 2]), Infinity);
  const { a, b } = pair();
  close(psnr(a, b, 255), 19.456337436092486, 1e-9, 'skimage peak_signal_noise_ratio');
});

test('SSIM: identical images give 1; the Gaussian window is 11 taps, sigma 1.5, normalised', () => {
  const { a } = pair();
  close(ssimPlane(a, a, H, W), 1, 1e-12);
  const g = gaussianWindow(11, 1.5);
  close(g.reduce((s, v) => s + v, 0), 1, 1e-12);
  close(g[5] / g[4], Math.exp(1 / (2 * 1.5 * 1.5)), 1e-12);
});

test('SSIM matches scikit-image structural_similarity(gaussian_weights=True, sigma=1.5, data_range=255)', () => {
  const { a, b } = pair();
  // use_sample_covariance=False (Wang et al.'s definition, our default)
  close(ssimPlane(a, b, H, W), 0.7455666601032598, 1e-9, 'paper settings');
  // scikit-image's default use_sample_covariance=True
  close(ssimPlane(a, b, H, W, { sampleCovariance: true }), 0.7454951222315882, 1e-9, 'skimage default');
  // RGB: channel c0 = a/b, c1 = (3a mod 256) vs clip(round(that + 25 cos(0.7y))), c2 = 255 - a in both; mean over channels.
  const rgbA = new Float64Array(H * W * 3);
  const rgbB = new Float64Array(H * W * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = y * W + x;
    const c1 = (a[i] * 3) % 256;
    rgbA.set([a[i], c1, 255 - a[i]], i * 3);
    rgbB.set([b[i], Math.min(255, Math.max(0, Math.round(c1 + 25 * Math.cos(y * 0.7)))), 255 - a[i]], i * 3);
  }
  close(ssim(rgbA, rgbB, H, W, 3), 0.9073817805624449, 1e-9, 'rgb channel_axis=-1');
});

test('depth: AbsRel, RMSE and delta thresholds 1.25^k by hand; invalid ground truth skipped', () => {
  const gt = [1, 2, 4, 10, 0];
  const pred = [1, 2.4, 6, 5, 3]; // ratios 1, 1.2, 1.5, 2 ; last pixel has no ground truth
  const m = depthMetrics(pred, gt);
  assert.equal(m.validPixels, 4);
  close(m.absrel, (0 + 0.4 / 2 + 2 / 4 + 5 / 10) / 4, 1e-12);
  close(m.rmse, Math.sqrt((0 + 0.16 + 4 + 25) / 4), 1e-12);
  close(m.delta1, 2 / 4, 1e-12); // 1, 1.2 < 1.25
  close(m.delta2, 3 / 4, 1e-12); // 1.5 < 1.5625
  close(m.delta3, 3 / 4, 1e-12); // 2 > 1.953125
  assert.throws(() => depthMetrics([1], [0]), /valid/);
});
