// Guided velocities at sampling time. All three forms are the same extrapolation
//   v = v_weak + w (v_strong - v_weak)
// with a different "weak" prediction:
//   - 'indicator' (CrossFlow's CFG): the same model with 1_c = 0 at the same z_t;
//   - 'cfg' (baseline, classic CFG): the same model with the null caption;
//   - 'autoguidance': an under-trained checkpoint of the same model (with 1_c = 1).
// w = 1 (or mode 'none') is the plain conditional velocity.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';
import { GUIDANCE_MODES, GuidanceMode } from '../config/choices';


export function parseGuidanceMode(value: string, field = 'guidance.mode'): GuidanceMode {
  if ((GUIDANCE_MODES as readonly string[]).includes(value)) return value as GuidanceMode;
  throw invalidValue(field, value, GUIDANCE_MODES.join(', '));
}

/** v_weak + w (v_strong - v_weak). */
export function guide(vStrong: tf.Tensor, vWeak: tf.Tensor, w: number): tf.Tensor {
  return tf.tidy(() => vWeak.add(vStrong.sub(vWeak).mul(w)));
}

/**
 * Runs a model once on a doubled batch [strong inputs; weak inputs] and combines the halves: one
 * forward pass of 2B items is cheaper than two of B on a BLAS backend.
 */
export function guideDoubled(vBoth: tf.Tensor, w: number): tf.Tensor {
  return tf.tidy(() => {
    const B = vBoth.shape[0] / 2;
    const [strong, weak] = tf.split(vBoth, [B, B], 0);
    return guide(strong, weak, w);
  });
}
