// The CrossFlow probability path between a source latent z0 (the text latent, or Gaussian noise for
// the baseline) and the image latent z1, as in the paper and the official code:
//   z_t = t z1 + (1 - (1 - s) t) z0,   dz_t/dt = v = z1 - (1 - s) z0,   s = sigma_min = 1e-5.
// At t = 0 the path is exactly z0; at t = 1 it is z1 + s z0 (a tiny amount of the source remains).
import * as tf from '@tensorflow/tfjs';

export const SIGMA_MIN = 1e-5;

/** Broadcasts t (B,) against a latent (B, ...) as (B, 1, ..., 1). */
export function expandTime(t: tf.Tensor1D, like: tf.Tensor): tf.Tensor {
  return t.reshape([t.shape[0], ...like.shape.slice(1).map(() => 1)]);
}

/** z_t = t z1 + (1 - (1 - s) t) z0 for z0, z1 (B, ...) and t (B,). */
export function pathSample(z0: tf.Tensor, z1: tf.Tensor, t: tf.Tensor1D, sigmaMin = SIGMA_MIN): tf.Tensor {
  return tf.tidy(() => {
    const tb = expandTime(t, z0); // (B, 1, 1, 1)
    return tb.mul(z1).add(tf.sub(1, tb.mul(1 - sigmaMin)).mul(z0));
  });
}

/** Target velocity d z_t / dt = z1 - (1 - s) z0 (independent of t on this straight path). */
export function targetVelocity(z0: tf.Tensor, z1: tf.Tensor, sigmaMin = SIGMA_MIN): tf.Tensor {
  return tf.tidy(() => z1.sub(z0.mul(1 - sigmaMin)));
}
