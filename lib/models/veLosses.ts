// Losses on the Text VE's latent (CrossFlow section 4): the KL term in its two published forms and the
// CLIP-style contrastive loss used by the T-T / I-T contrast variants.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';
import { KL_FORMS, KlForm } from '../config/choices';

/** Default weights of each form: paper lambda = 1e-4; official code 1e-2. */
export const KL_DEFAULT_WEIGHT: Record<KlForm, number> = { paper: 1e-4, code: 1e-2 };

function latentAxes(x: tf.Tensor): number[] {
  return x.shape.slice(1).map((_, i) => i + 1);
}

/**
 * KL(N(mu, sigma^2) || N(0, 1)) summed over latent dims, mean over the batch.
 *   'paper': 0.5 sum(mu^2 + exp(logvar) - 1 - logvar)
 *   'code' : -0.5 sum(1 + logvar - (0.3 mu)^6 - exp(logvar))   (the official code's modified term:
 *            a flat penalty for |mu| < ~3, steep beyond)
 */
export function klLoss(mu: tf.Tensor, logvar: tf.Tensor, form: KlForm): tf.Scalar {
  return tf.tidy(() => {
    let perDim: tf.Tensor;
    if (form === 'paper') perDim = mu.square().add(logvar.exp()).sub(1).sub(logvar).mul(0.5);
    else if (form === 'code') perDim = tf.add(1, logvar).sub(mu.mul(0.3).pow(6)).sub(logvar.exp()).mul(-0.5);
    else throw invalidValue('ve.kl', form, KL_FORMS.join(', '));
    return perDim.sum(latentAxes(mu)).mean() as tf.Scalar;
  });
}

/** Rows scaled to unit L2 norm: (B, D) -> (B, D). */
export function l2Normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => x.div(x.square().sum(1, true).add(eps).sqrt()) as tf.Tensor2D);
}

/**
 * Symmetric InfoNCE between a (B, D) and b (B, D) (CLIP): logits = scale * norm(a) norm(b)^T, cross
 * entropy with the matching item as the class, averaged over both directions. As in the official
 * CrossFlow code the scale is the raw learnable value (initialised to ln(1/0.07) ~ 2.659), not exp of it.
 */
export function contrastiveLoss(a: tf.Tensor2D, b: tf.Tensor2D, logitScale: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const B = a.shape[0];
    const logits = tf.matMul(l2Normalize(a), l2Normalize(b), false, true).mul(logitScale) as tf.Tensor2D; // (B, B)
    const labels = tf.oneHot(tf.range(0, B, 1, 'int32'), B).toFloat();
    const ce = (l: tf.Tensor2D) => tf.neg(labels.mul(tf.logSoftmax(l)).sum(1)).mean();
    return ce(logits).add(ce(logits.transpose() as tf.Tensor2D)).mul(0.5) as tf.Scalar;
  });
}

