// ODE solver for sampling: explicit Euler from t0 (source: text latent or noise) to t1 = 1 (image latent),
//   z_{k+1} = z_k + h v(z_k, t_k),  t_k = t0 + k h,  h = (t1 - t0) / steps.
// Each step runs in its own tf.tidy so only the current state stays alive.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';

/** A velocity field: v(z (B, ...), t (B,)) with the shape of z; `time` is t as a number (no read-back). */
export type VelocityField = (z: tf.Tensor, t: tf.Tensor1D, time: number) => tf.Tensor;

export interface EulerOptions {
  steps: number;
  t0?: number;
  t1?: number;
  /** Called after each step with the step index (1-based) and the new state (do not dispose it). */
  onStep?: (step: number, z: tf.Tensor) => void;
}

export function eulerSolve(field: VelocityField, z0: tf.Tensor, opts: EulerOptions): tf.Tensor {
  const { steps } = opts;
  if (!Number.isInteger(steps) || steps < 1) throw invalidValue('sample.steps', steps, 'an integer >= 1');
  const t0 = opts.t0 ?? 0;
  const t1 = opts.t1 ?? 1;
  const h = (t1 - t0) / steps;
  const B = z0.shape[0];
  let z = z0.clone();
  for (let k = 0; k < steps; k++) {
    const next = tf.tidy(() => {
      const time = t0 + k * h;
      const t = tf.fill([B], time) as tf.Tensor1D;
      return z.add(field(z, t, time).mul(h));
    });
    z.dispose();
    z = next;
    opts.onStep?.(k + 1, z);
  }
  return z;
}
