// The sampling solvers against analytic answers: Heun and midpoint integrate a velocity linear in t
// exactly (Euler misses by a known amount), and their measured order of convergence on fields with
// known solutions is 2 (Euler's 1): the error falls 4x (2x) each time the step halves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { nfeOf, parseSolver, solve, Solver, SOLVERS, VelocityField } from '../../lib/flow/solver';

const SECOND_ORDER: Solver[] = ['heun', 'midpoint'];

/** z(t1) of a 1-D batch under `field`, as numbers. */
function endOf(solver: Solver, field: VelocityField, z0: number[], steps: number, t0 = 0, t1 = 1): number[] {
  const start = tf.tensor2d(z0, [z0.length, 1]);
  const end = solve(solver, field, start, { steps, t0, t1 });
  const out = Array.from(end.dataSync());
  tf.dispose([start, end]);
  return out;
}

test('on v(t) = a t + b, Heun and midpoint are exact at any step count; Euler misses by a h / 2', async () => {
  await initBackend();
  const a = 3;
  const b = -0.5;
  // v depends on t only (per item: a t + b, broadcast over z's batch).
  const field: VelocityField = (z, t) => t.reshape([-1, 1]).mul(a).add(b).add(tf.zerosLike(z));
  const z0 = [0.25, -1, 2];
  for (const steps of [1, 2, 5, 16]) {
    const h = 1 / steps;
    for (const s of SECOND_ORDER) {
      const end = endOf(s, field, z0, steps);
      // z(1) = z0 + a / 2 + b
      end.forEach((v, i) => assert.ok(Math.abs(v - (z0[i] + a / 2 + b)) < 1e-5, `${s} steps ${steps}: ${v} vs ${z0[i] + a / 2 + b}`));
    }
    // Euler: z0 + b + a h sum_k k h = z0 + b + a (1 - h) / 2
    const euler = endOf('euler', field, z0, steps);
    euler.forEach((v, i) => assert.ok(Math.abs(v - (z0[i] + b + (a * (1 - h)) / 2)) < 1e-5, `euler steps ${steps}: ${v}`));
  }
  // Over a sub-interval too (the sampler's start-t diagnostic): z(1) - z(0.4) = a (1 - 0.16) / 2 + 0.6 b.
  for (const s of SECOND_ORDER) assert.ok(Math.abs(endOf(s, field, [0], 3, 0.4, 1)[0] - ((a * 0.84) / 2 + 0.6 * b)) < 1e-5, s);
});

/** The measured order log2(e(h) / e(h / 2)) between successive halvings of h. */
function measuredOrders(solver: Solver, field: VelocityField, z0: number[], exact: number[], stepsList: number[]): number[] {
  const errors = stepsList.map((n) => Math.max(...endOf(solver, field, z0, n).map((v, i) => Math.abs(v - exact[i]))));
  return errors.slice(1).map((e, i) => Math.log2(errors[i] / e));
}

test('order of convergence on dz/dt = lambda z (z(1) = z0 e^lambda): Euler 1, Heun and midpoint 2, within 0.15', async () => {
  await initBackend();
  const lambda = -1.5;
  const z0 = [1, -0.5, 2];
  const exact = z0.map((z) => z * Math.exp(lambda));
  const field: VelocityField = (z) => z.mul(lambda);
  for (const s of SOLVERS) {
    const orders = measuredOrders(s, field, z0, exact, [16, 32, 64]);
    const p = s === 'euler' ? 1 : 2;
    for (const o of orders) assert.ok(Math.abs(o - p) <= 0.15, `${s}: measured order ${orders.map((x) => x.toFixed(3)).join(', ')}, expected ${p}`);
  }
});

test('order of convergence on the nonlinear, t-dependent dz/dt = z^2 + t (Riccati), against a fine reference', async () => {
  await initBackend();
  // dz/dt = z^2 has z(1) = z0 / (1 - z0): check the nonlinear, autonomous case against that exactly.
  const z0 = [0.3, -0.8, 0.5];
  const exact = z0.map((z) => z / (1 - z));
  const square: VelocityField = (z) => z.square();
  for (const s of SOLVERS) {
    const orders = measuredOrders(s, square, z0, exact, [16, 32, 64]);
    const p = s === 'euler' ? 1 : 2;
    for (const o of orders) assert.ok(Math.abs(o - p) <= 0.15, `${s} on z^2: measured order ${orders.map((x) => x.toFixed(3)).join(', ')}, expected ${p}`);
  }
  // With t in the field (z^2 + t), so the solvers' intermediate times matter: a 4096-step Heun run is the
  // reference (its error, ~1e-6, is float32 rounding: far below the coarse runs' ~1e-2 .. 1e-4).
  const riccati: VelocityField = (z, t) => z.square().add(t.reshape([-1, 1]));
  const zr = [0.2, -0.6];
  const ref = endOf('heun', riccati, zr, 4096);
  for (const s of SOLVERS) {
    const orders = measuredOrders(s, riccati, zr, ref, [16, 32, 64]);
    const p = s === 'euler' ? 1 : 2;
    for (const o of orders) assert.ok(Math.abs(o - p) <= 0.15, `${s} on z^2 + t: measured order ${orders.map((x) => x.toFixed(3)).join(', ')}, expected ${p}`);
  }
});

test('evaluations: k steps cost k (Euler) or 2k (Heun, midpoint) calls, at the times each rule names; no tensors left', async () => {
  await initBackend();
  for (const s of SOLVERS) {
    const times: number[] = [];
    const before = tf.memory().numTensors;
    const z = solve(s, (x, t, time) => { assert.equal(t.dataSync()[0], Math.fround(time)); times.push(time); return tf.onesLike(x); }, tf.tensor2d([[0]]), { steps: 4 });
    assert.equal(times.length, nfeOf(s, 4));
    const want = s === 'euler' ? [0, 0.25, 0.5, 0.75] : s === 'heun' ? [0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1] : [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875];
    assert.deepEqual(times, want, s);
    assert.equal(z.dataSync()[0], 1);
    z.dispose();
    assert.equal(tf.memory().numTensors, before + 1, `${s}: only the input stays`); // the tensor2d made inline
  }
  assert.throws(() => parseSolver('rk4'), /invalid solver: "rk4"; allowed: euler, heun, midpoint/);
  assert.throws(() => solve('heun', (x) => x, tf.tensor2d([[0]]), { steps: 0 }), /sample\.steps/);
});
