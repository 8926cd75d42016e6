import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resize, downsample, upsampleBicubic, Image } from '../../lib/data/image/resample';

function img(h: number, w: number, c: number, f: (y: number, x: number, ch: number) => number): Image {
  const data = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = f(y, x, ch);
  return { data, height: h, width: w, channels: c };
}

test('a constant image stays constant under every kernel, up and down', () => {
  const c = img(12, 16, 3, (_y, _x, ch) => 0.25 + 0.25 * ch);
  for (const kernel of ['box', 'bilinear', 'bicubic'] as const)
    for (const [h, w] of [[3, 4], [6, 8], [24, 32], [7, 5]]) {
      const r = resize(c, h, w, kernel, true);
      for (let k = 0; k < r.data.length; k++) assert.ok(Math.abs(r.data[k] - (0.25 + 0.25 * (k % 3))) < 1e-6);
    }
});

test('box downsampling is the exact block average', () => {
  const x = img(8, 8, 1, (y, xx) => Math.sin(y * 1.3 + xx * 0.7) + y * xx * 0.01);
  const d = downsample(x, 4);
  assert.equal(d.height, 2);
  for (let by = 0; by < 2; by++)
    for (let bx = 0; bx < 2; bx++) {
      let sum = 0;
      for (let y = 0; y < 4; y++) for (let xx = 0; xx < 4; xx++) sum += x.data[(by * 4 + y) * 8 + bx * 4 + xx];
      assert.ok(Math.abs(d.data[by * 2 + bx] - sum / 16) < 1e-6);
    }
});

test('antialiased bicubic downsampling of a stripe pattern averages it out (no aliasing)', () => {
  // Alternating 0/1 columns: naive point sampling at factor 2 gives all 0s or all 1s; antialiasing gives ~0.5.
  const stripes = img(16, 16, 1, (_y, x) => x % 2);
  const d = resize(stripes, 8, 8, 'bicubic', true);
  const interior = [];
  for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) interior.push(d.data[y * 8 + x]);
  for (const v of interior) assert.ok(Math.abs(v - 0.5) < 0.02, String(v));
});

test('bicubic upsampling reproduces linear and quadratic ramps in the interior', () => {
  // Keys' kernel (a = -0.5) is exact for polynomials of degree <= 2 (away from the border).
  const f = (y: number, x: number) => 0.1 + 0.05 * x - 0.02 * y + 0.003 * x * x;
  const low = img(8, 8, 1, (y, x) => f(y, x));
  const up = upsampleBicubic(low, 32, 32);
  for (let y = 10; y < 22; y++)
    for (let x = 10; x < 22; x++) {
      // Output pixel center (x + 0.5) / 4 - 0.5 in low-res pixel coordinates.
      const lx = (x + 0.5) / 4 - 0.5;
      const ly = (y + 0.5) / 4 - 0.5;
      assert.ok(Math.abs(up.data[y * 32 + x] - f(ly, lx)) < 1e-5);
    }
});
