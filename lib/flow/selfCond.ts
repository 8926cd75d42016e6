// Self-conditioning at sampling time: each branch of a (guided) sampler feeds the model its own last
// estimate of the source, z0_hat = z_t - t v, from the previous Euler step. For the path
// z_t = (1 - (1 - sigma_min) t) z0 + t z1 with v = z1 - (1 - sigma_min) z0, z_t - t v = z0 exactly.
import * as tf from '@tensorflow/tfjs';
import { expandTime } from './path';

/** The source estimate z0_hat = z_t - t v, for t (B,) or one time for the whole batch. */
export function sourceEstimate(zt: tf.Tensor, v: tf.Tensor, t: tf.Tensor1D | number): tf.Tensor4D {
  return tf.tidy(() => zt.sub(v.mul(typeof t === 'number' ? t : expandTime(t, zt))) as tf.Tensor4D);
}

/** A guided sampler's branches: the conditional model, the unconditional one (indicator 0 or null caption), autoguidance's bad model. */
export type Branch = 'cond' | 'uncond' | 'bad';

/** The last source estimate of each branch, kept across Euler steps (each step runs in its own tidy). */
export class SourceEstimates {
  private readonly last = new Map<Branch, tf.Tensor4D>();

  /** enabled false: every lookup is null and nothing is kept (a model without self-conditioning). */
  constructor(private readonly enabled: boolean) {}

  /** The branch's last estimate, or null before its first evaluation. */
  of(branch: Branch): tf.Tensor4D | null {
    return this.enabled ? this.last.get(branch) ?? null : null;
  }

  /** [first; second] for a doubled batch: zeros stand in for a branch with no estimate yet; null when neither has one. */
  pair(first: Branch, second: Branch): tf.Tensor4D | null {
    const a = this.of(first);
    const b = this.of(second);
    if (!a && !b) return null;
    return tf.concat([a ?? tf.zerosLike(b!), b ?? tf.zerosLike(a!)]) as tf.Tensor4D;
  }

  /** Keeps z - time v as the branch's estimate (z and v of one branch, (B, L, L, C)). */
  record(branch: Branch, z: tf.Tensor, v: tf.Tensor, time: number): void {
    if (!this.enabled) return;
    const estimate = tf.keep(sourceEstimate(z, v, time));
    this.last.get(branch)?.dispose();
    this.last.set(branch, estimate);
  }

  /** record() for a doubled batch: the first half of z and v belongs to `first`, the second to `second`. */
  recordPair(first: Branch, second: Branch, z: tf.Tensor, vBoth: tf.Tensor, time: number): void {
    if (!this.enabled) return;
    const B = vBoth.shape[0] / 2;
    const [v1, v2] = tf.split(vBoth, [B, B], 0);
    this.record(first, z, v1, time);
    this.record(second, z, v2, time);
    tf.dispose([v1, v2]);
  }

  dispose(): void {
    for (const e of this.last.values()) e.dispose();
    this.last.clear();
  }
}
