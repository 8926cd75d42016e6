// Flow-matching loss: the per-sample mean squared error between the predicted and the target
// velocity, averaged over the batch (the official code's mean over all latent dims, then batch).
import * as tf from '@tensorflow/tfjs';

/** Per-sample MSE: (B, ...) vs (B, ...) -> (B,). */
export function perSampleMse(pred: tf.Tensor, target: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const axes = pred.shape.slice(1).map((_, i) => i + 1);
    return pred.sub(target).square().mean(axes) as tf.Tensor1D;
  });
}

/** Batch mean of the per-sample MSE (a scalar). */
export function flowMatchingLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => perSampleMse(pred, target).mean() as tf.Scalar);
}
