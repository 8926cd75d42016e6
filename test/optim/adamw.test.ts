import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { AdamW } from '../../lib/optim/adamw';

test('AdamW matches the update computed by hand (torch semantics, decoupled decay)', async () => {
  await initBackend('native');
  const p = tf.variable(tf.tensor1d([1, -2]), true, 'p');
  const opt = new AdamW({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
  const g = { p: tf.tensor1d([0.5, 0.5]) };
  // step 1: p *= 1 - lr*wd; m = 0.05, v = 2.5e-4 -> m_hat = 0.5, v_hat = 0.25 -> p -= 0.1 * 0.5 / 0.5
  opt.apply([p], g);
  const s1 = await p.data();
  assert.ok(Math.abs(s1[0] - (1 * 0.99 - 0.1)) < 1e-6, `step 1: ${s1[0]}`);
  assert.ok(Math.abs(s1[1] - (-2 * 0.99 - 0.1)) < 1e-6, `step 1: ${s1[1]}`);
  // step 2: m = 0.095, v = 4.9975e-4 -> m_hat = 0.5, v_hat = 0.25: the same step of 0.1 after decay
  opt.apply([p], g);
  const s2 = await p.data();
  assert.ok(Math.abs(s2[0] - (0.89 * 0.99 - 0.1)) < 1e-6, `step 2: ${s2[0]}`);
  // a different gradient: m = 0.9*0.095 + 0.1*(-1) = -0.0145; v = 0.999*4.9975e-4 + 0.001*1
  opt.apply([p], { p: tf.tensor1d([-1, -1]) });
  const m = 0.9 * 0.095 - 0.1;
  const v = 0.999 * 4.9975e-4 + 0.001;
  const expected = (0.89 * 0.99 - 0.1) * 0.99 - (0.1 * (m / (1 - 0.9 ** 3))) / (Math.sqrt(v / (1 - 0.999 ** 3)) + 1e-8);
  const s3 = await p.data();
  assert.ok(Math.abs(s3[0] - expected) < 1e-5, `step 3: ${s3[0]} vs ${expected}`);
  opt.dispose();
  p.dispose();
});

test('the fused in-place update (native) equals the kernel-by-kernel update (cpu) over many steps', async () => {
  // 6 elements, and 100,003: split over the C addon's threads where it is loaded
  const big = Float32Array.from({ length: 100003 }, (_, i) => Math.sin(i * 12.9898) * 2);
  const run = async (backend: string, values: Float32Array | null): Promise<Float32Array> => {
    await initBackend(backend);
    await tf.setBackend(backend);
    const p = tf.variable(values ? tf.tensor1d(values) : tf.tensor2d([[0.3, -1.2, 2.0], [0.0, 0.7, -0.4]]), true, `w-${backend}-${values ? 'big' : 'small'}`);
    const opt = new AdamW({ lr: 0.05, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.03 });
    for (let i = 0; i < 25; i++) {
      const g = tf.tidy(() => p.mul(p).sub(tf.scalar(0.1 * i)).sin()); // a gradient that changes with p and i
      opt.apply([p], { [p.name]: g }, 0.05 * Math.min(1, (i + 1) / 5));
      g.dispose();
    }
    const out = (await p.data()) as Float32Array;
    opt.dispose();
    p.dispose();
    return out;
  };
  for (const values of [null, big]) {
    const cpu = await run('cpu', values);
    const native = await run('native', values);
    // cpu rounds every kernel to float32, the fused loop works in double; over 25 steps of a gradient that
    // depends on p the larger values drift apart by up to about 2e-5
    const tol = values ? 5e-5 : 1e-5;
    cpu.forEach((v, i) => assert.ok(Math.abs(v - native[i]) < tol * (1 + Math.abs(v)), `element ${i}: cpu ${v} native ${native[i]}`));
  }
});
