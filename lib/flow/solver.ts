// ODE solvers for sampling, from t0 (source: text latent or noise) to t1 = 1 (image latent), h = (t1 - t0) / steps:
//   euler     z_{k+1} = z_k + h v(z_k, t_k)                                           1 evaluation a step, order 1
//   heun      k1 = v(z_k, t_k), k2 = v(z_k + h k1, t_k + h), z_{k+1} = z_k + h (k1 + k2) / 2   2 a step, order 2
//   midpoint  k1 = v(z_k, t_k), k2 = v(z_k + h/2 k1, t_k + h/2), z_{k+1} = z_k + h k2        2 a step, order 2
// Heun and midpoint integrate a velocity linear in t exactly; on a smooth field their error falls 4x when h
// halves (Euler's 2x). "Matched evaluations" compares them at equal NFE: k second-order steps cost 2k
// evaluations of the field (with guidance, each evaluation is one guided velocity, itself a doubled batch).
// Each step runs in its own tf.tidy so only the current state stays alive.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';

/** A velocity field: v(z (B, ...), t (B,)) with the shape of z; `time` is t as a number (no read-back). */
export type VelocityField = (z: tf.Tensor, t: tf.Tensor1D, time: number) => tf.Tensor;

export const SOLVERS = ['euler', 'heun', 'midpoint'] as const;
export type Solver = (typeof SOLVERS)[number];

export interface SolveOptions {
  steps: number;
  t0?: number;
  t1?: number;
  /** Called after each step with the step index (1-based) and the new state (do not dispose it). */
  onStep?: (step: number, z: tf.Tensor) => void;
}

/** Evaluations of the velocity field `steps` steps of a solver cost. */
export function nfeOf(solver: Solver, steps: number): number {
  return solver === 'euler' ? steps : 2 * steps;
}

export function parseSolver(value: string, field = 'solver'): Solver {
  if ((SOLVERS as readonly string[]).includes(value)) return value as Solver;
  throw invalidValue(field, value, SOLVERS.join(', '));
}

/** One step of a solver from (z, time) to time + h (inside a tidy; `tEnd` is time + h, exact at the interval's end). */
function step(solver: Solver, field: VelocityField, z: tf.Tensor, time: number, h: number, tEnd: number): tf.Tensor {
  const B = z.shape[0];
  const at = (s: number) => tf.fill([B], s) as tf.Tensor1D;
  const k1 = field(z, at(time), time);
  if (solver === 'euler') return z.add(k1.mul(h));
  if (solver === 'heun') {
    const k2 = field(z.add(k1.mul(h)), at(tEnd), tEnd);
    return z.add(k1.add(k2).mul(h / 2));
  }
  const mid = time + h / 2;
  const k2 = field(z.add(k1.mul(h / 2)), at(mid), mid);
  return z.add(k2.mul(h));
}

/** Integrates dz/dt = v(z, t) from t0 to t1 in `steps` equal steps of `solver`; returns z(t1) (the caller disposes it). */
export function solve(solver: Solver, field: VelocityField, z0: tf.Tensor, opts: SolveOptions): tf.Tensor {
  const { steps } = opts;
  if (!Number.isInteger(steps) || steps < 1) throw invalidValue('sample.steps', steps, 'an integer >= 1');
  parseSolver(solver);
  const t0 = opts.t0 ?? 0;
  const t1 = opts.t1 ?? 1;
  const h = (t1 - t0) / steps;
  let z = z0.clone();
  for (let k = 0; k < steps; k++) {
    const time = t0 + k * h;
    const tEnd = k === steps - 1 ? t1 : t0 + (k + 1) * h;
    const next = tf.tidy(() => step(solver, field, z, time, h, tEnd));
    z.dispose();
    z = next;
    opts.onStep?.(k + 1, z);
  }
  return z;
}

export type EulerOptions = SolveOptions;

export function eulerSolve(field: VelocityField, z0: tf.Tensor, opts: EulerOptions): tf.Tensor {
  return solve('euler', field, z0, opts);
}
