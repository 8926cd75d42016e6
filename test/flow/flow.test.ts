import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { pathSample, targetVelocity, SIGMA_MIN } from '../../lib/flow/path';
import { perSampleMse, flowMatchingLoss } from '../../lib/flow/loss';
import { velocityFromData } from '../../lib/flow/parametrisation';
import { eulerSolve } from '../../lib/flow/solver';
import { timesFrom, sigmoid } from '../../lib/flow/time';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

test('path z_t and target velocity match hand-computed values', async () => {
  await initBackend();
  const s = SIGMA_MIN;
  const z0 = tf.tensor2d([[1, -2], [0.5, 4]]);
  const z1 = tf.tensor2d([[3, 1], [-1, 2]]);
  const t = tf.tensor1d([0.25, 1]);
  const zt = pathSample(z0, z1, t);
  // item 0: 0.25*z1 + (1 - 0.75*... ) -> 0.25*3 + (1 - (1-s)*0.25)*1, 0.25*1 + (1 - (1-s)*0.25)*(-2)
  const a = 1 - (1 - s) * 0.25;
  const b = 1 - (1 - s) * 1; // = s
  close(await zt.data(), [0.75 + a * 1, 0.25 + a * -2, -1 + b * 0.5, 2 + b * 4]);
  const v = targetVelocity(z0, z1);
  close(await v.data(), [3 - (1 - s), 1 + 2 * (1 - s), -1 - 0.5 * (1 - s), 2 - 4 * (1 - s)]);
  // z_0 at t = 0 is exactly the source
  close(await pathSample(z0, z1, tf.tensor1d([0, 0])).data(), [1, -2, 0.5, 4], 0);
  tf.dispose([z0, z1, t, zt, v]);
});

test('d z_t / dt equals the target velocity (finite difference)', async () => {
  await initBackend();
  const z0 = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 1);
  const z1 = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 2);
  const h = 1e-2;
  const fd = pathSample(z0, z1, tf.tensor1d([0.4 + h, 0.7 + h])).sub(pathSample(z0, z1, tf.tensor1d([0.4, 0.7]))).div(h);
  const v = targetVelocity(z0, z1);
  close(await fd.data(), Array.from(await v.data()), 2e-4);
});

test('loss is the per-sample mean squared error', async () => {
  await initBackend();
  const pred = tf.tensor2d([[1, 2], [0, 0]]);
  const target = tf.tensor2d([[0, 0], [3, 1]]);
  close(await perSampleMse(pred, target).data(), [(1 + 4) / 2, (9 + 1) / 2]);
  close([await flowMatchingLoss(pred, target).data()][0], [(2.5 + 5) / 2]);
});

test('Euler integrates a linear field exactly; the straight path reaches z1', async () => {
  await initBackend();
  // A constant field: Euler is exact, z(1) = z0 + a.
  const z0 = tf.tensor2d([[1, -1]]);
  const a = tf.tensor2d([[2, 0.5]]);
  const out = eulerSolve((z) => a.add(tf.zerosLike(z)), z0, { steps: 7 });
  close(await out.data(), [3, -0.5], 1e-6);
  // The field v(z, t) = (z1 - (1-s) z0) is constant along the path: Euler from z0 lands on t z1 + ... at t=1.
  const src = tf.tensor2d([[0.3, -0.8]]);
  const z1 = tf.tensor2d([[-1.2, 2]]);
  const v = targetVelocity(src, z1);
  const end = eulerSolve(() => v, src, { steps: 3 });
  close(await end.data(), Array.from(await pathSample(src, z1, tf.tensor1d([1])).data()), 1e-6);
  // A field linear in z: dz/dt = -z. Euler with N steps gives z0 (1 - 1/N)^N exactly.
  const z = eulerSolve((x) => x.neg(), tf.tensor2d([[2]]), { steps: 4 });
  close(await z.data(), [2 * Math.pow(0.75, 4)], 1e-6);
  // t passed to the field, as a tensor and as a number: t_k = t0 + k (1 - t0) / N
  const seen: number[] = [];
  const times: number[] = [];
  eulerSolve((x, t, time) => { seen.push(t.dataSync()[0]); times.push(time); return tf.zerosLike(x); }, tf.tensor2d([[0]]), { steps: 4 });
  close(seen, [0, 0.25, 0.5, 0.75]);
  close(times, [0, 0.25, 0.5, 0.75]);
  times.length = 0;
  eulerSolve((x, t, time) => { times.push(time); return tf.zerosLike(x); }, tf.tensor2d([[0]]), { steps: 2, t0: 0.5 });
  close(times, [0.5, 0.75]);
});

test('logit-normal times are sigmoid(m + s n)', () => {
  const t = timesFrom({ kind: 'logit-normal', mean: 0, std: 1 }, Float32Array.from([0, 1, -2]), new Float32Array(3));
  close(t, [0.5, sigmoid(1), sigmoid(-2)]);
  const u = timesFrom({ kind: 'uniform', mean: 0, std: 1 }, new Float32Array(2), Float32Array.from([0.1, 0.9]));
  close(u, [0.1, 0.9]);
});

test('data prediction: the exact image latent gives the path velocity for t below the clip; above it the gap is held at 0.05', async () => {
  await initBackend();
  const z0 = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 21);
  const z1 = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 22);
  for (const sigmaMin of [SIGMA_MIN, 0.1]) {
    const d = tf.tidy(() => {
      const t = tf.tensor1d([0, 0.9]);
      const zt = pathSample(z0, z1, t, sigmaMin);
      return tf.abs(velocityFromData(z1, zt, t, sigmaMin).sub(targetVelocity(z0, z1, sigmaMin))).max().dataSync()[0];
    });
    assert.ok(d < 1e-4, `sigma_min ${sigmaMin}: ${d}`);
  }
  // t = 0.99 (s = 0): 1 - t = 0.01 is clipped to 0.05, so v = (z1 - z_t) / 0.05 = 0.01 (z1 - z0) / 0.05 = 0.2 (z1 - z0).
  const d = tf.tidy(() => {
    const t = tf.tensor1d([0.99, 0.99]);
    const zt = pathSample(z0, z1, t, 0);
    return tf.abs(velocityFromData(z1, zt, t, 0).sub(z1.sub(z0).mul(0.2))).max().dataSync()[0];
  });
  assert.ok(d < 1e-4, `clipped: ${d}`);
  tf.dispose([z0, z1]);
});
