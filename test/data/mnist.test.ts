import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'crypto';
import { loadMnist, superResPair, classCaptions, loadClass, mnistToTensor, superResTensors } from '../../lib/data/mnist';

test('MNIST: shapes, values, a known label, deterministic order, disjoint splits', () => {
  const a = loadMnist({ dataset: 'mnist', split: 'train', count: 20, seed: 0 });
  assert.equal(a.length, 20);
  for (const s of a) {
    assert.equal(s.pixels.length, 28 * 28);
    assert.ok(s.pixels.every((v) => v >= 0 && v <= 1));
    assert.equal(s.caption, classCaptions('mnist', s.label)[0]);
  }
  // Known image: the package's first "7" has ink at row 7, columns 15..20 (values 0.451 .. 0.835).
  const sevens = loadMnist({ dataset: 'mnist', split: 'train', count: 5, seed: 0, labels: [7] });
  assert.ok(sevens.every((s) => s.label === 7 && s.caption === 'a handwritten seven'));
  const first7 = loadClass('mnist', 7)[0];
  assert.deepEqual(Array.from(first7.slice(7 * 28 + 15, 7 * 28 + 21)), [115, 121, 162, 253, 253, 213]);
  const b = loadMnist({ dataset: 'mnist', split: 'train', count: 20, seed: 0 });
  const hash = (xs: typeof a) => createHash('sha256').update(Buffer.concat(xs.map((s) => Buffer.from(s.pixels.buffer)))).digest('hex');
  assert.equal(hash(a), hash(b));
  assert.notEqual(hash(a), hash(loadMnist({ dataset: 'mnist', split: 'train', count: 20, seed: 1 })));
  const key = (s: { label: number; classIndex: number }) => `${s.label}:${s.classIndex}`;
  const test_ = new Set(loadMnist({ dataset: 'mnist', split: 'test', count: 900, seed: 0 }).map(key));
  const train = loadMnist({ dataset: 'mnist', split: 'train', count: 2000, seed: 0 });
  assert.ok(train.every((s) => !test_.has(key(s))));
  // Padding to 32 keeps the digit centred.
  const p = loadMnist({ dataset: 'mnist', split: 'val', count: 1, seed: 0, size: 32 })[0];
  const q = loadMnist({ dataset: 'mnist', split: 'val', count: 1, seed: 0 })[0];
  assert.equal(p.pixels[(2 + 14) * 32 + 2 + 10], q.pixels[14 * 28 + 10]);
  assert.equal(p.pixels[0], 0);
});

test('Fashion-MNIST: captions and a known class', () => {
  const s = loadMnist({ dataset: 'fashion', split: 'test', count: 3, seed: 0, labels: [7] });
  assert.ok(s.every((x) => x.label === 7 && x.caption === 'a photo of a sneaker' && x.pixels.length === 784));
  assert.ok(s[0].pixels.some((v) => v > 0.5));
  assert.equal(classCaptions('fashion', 9)[0], 'a photo of an ankle boot');
  assert.throws(() => loadMnist({ dataset: 'kmnist' as never, split: 'test', count: 1, seed: 0 }), /allowed: mnist, fashion/);
});

test('super-resolution pairs: low is the 4x4 block mean, lowUp is full size', () => {
  const s = loadMnist({ dataset: 'mnist', split: 'test', count: 1, seed: 3 })[0];
  const pair = superResPair(s.pixels, 28, 28, 4);
  assert.equal(pair.low.length, 49);
  assert.equal(pair.lowUp.length, 784);
  let sum = 0;
  for (let y = 8; y < 12; y++) for (let x = 12; x < 16; x++) sum += s.pixels[y * 28 + x];
  assert.ok(Math.abs(pair.low[2 * 7 + 3] - sum / 16) < 1e-6);
  assert.ok(pair.lowUp.every((v) => v >= 0 && v <= 1));
  // Upsampling keeps the mean roughly (the blur moves mass but does not create it).
  const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(Math.abs(mean(pair.lowUp) - mean(pair.high)) < 0.02);
});

test('tensors: (N, 28, 28, 1) images and super-resolution batches', async () => {

  const s = loadMnist({ dataset: 'mnist', split: 'val', count: 4, seed: 0 });
  const t = mnistToTensor(s);
  assert.deepEqual(t.shape, [4, 28, 28, 1]);
  assert.equal(t.dataSync()[2 * 784 + 400], s[2].pixels[400]);
  const { high, lowUp } = superResTensors(s, 4);
  assert.deepEqual(lowUp.shape, [4, 28, 28, 1]);
  assert.equal(lowUp.dataSync()[784 + 300], superResPair(s[1].pixels, 28, 28, 4).lowUp[300]);
  for (const x of [t, high, lowUp]) x.dispose();
});
