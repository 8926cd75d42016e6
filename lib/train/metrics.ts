// Small image metrics used while training (the evaluation suite lives in lib/eval).
import * as tf from '@tensorflow/tfjs';

/** Per-image PSNR in dB for images in [0, 1]: (B, H, W, 3) x 2 -> B numbers. */
export function psnrOf(a: tf.Tensor4D, b: tf.Tensor4D): number[] {
  const mse = tf.tidy(() => a.sub(b).square().mean([1, 2, 3]).dataSync());
  return Array.from(mse, (m) => 10 * Math.log10(1 / Math.max(m, 1e-10)));
}
