// What the flow network's output stands for. 'velocity' (the paper): the output is v itself.
// 'data' (x-prediction, as in JiT, Li & He 2025): the output is the image latent z1_hat, and the velocity
// follows from the path z_t = t z1 + (1 - (1 - s) t) z0 (see path.ts):
//   v = z1 - (1 - s) z0 = (z1 - (1 - s) z_t) / (1 - (1 - s) t),
// with the denominator held at >= DATA_PREDICTION_MIN_GAP near t = 1 (JiT's clip) so it cannot blow up.
// Why for CrossFlow: v contains -z0, and z0 is a text code, not zero-mean noise; a velocity network has to
// rebuild that code from z_t, where it is scaled by 1 - t. A data network draws the image, and the path
// supplies z0's part exactly.
import * as tf from '@tensorflow/tfjs';
import { expandTime, SIGMA_MIN } from './path';

export const DATA_PREDICTION_MIN_GAP = 0.05;

/** v from a prediction z1_hat of the image latent at (z_t, t): (z1_hat - (1 - s) z_t) / max(1 - (1 - s) t, gap). */
export function velocityFromData(z1Hat: tf.Tensor, zt: tf.Tensor, t: tf.Tensor1D, sigmaMin = SIGMA_MIN, minGap = DATA_PREDICTION_MIN_GAP): tf.Tensor {
  return tf.tidy(() => {
    const gap = tf.maximum(tf.sub(1, expandTime(t, zt).mul(1 - sigmaMin)), minGap); // (B, 1, 1, 1)
    return z1Hat.sub(zt.mul(1 - sigmaMin)).div(gap);
  });
}
