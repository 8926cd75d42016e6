// Exponential moving average of the weights, used for sampling:
//   shadow <- decay * shadow + (1 - decay) * param   after every optimiser step.
// `swap` exchanges live and shadow values in place (sample with EMA weights, then swap back).
import * as tf from '@tensorflow/tfjs';
import { namedVariable, paramName } from '../nn/params';

export class Ema {
  readonly shadow = new Map<string, tf.Variable>();

  constructor(vars: tf.Variable[], readonly decay: number) {
    // tidy frees the clone's handle; the variable keeps the data.
    for (const v of vars) this.shadow.set(paramName(v), tf.tidy(() => namedVariable(v.clone(), false, `ema/${paramName(v)}`)));
  }

  update(vars: tf.Variable[], decay = this.decay): void {
    tf.tidy(() => {
      for (const v of vars) {
        const s = this.shadow.get(paramName(v));
        if (s) s.assign(s.mul(decay).add(v.mul(1 - decay)));
      }
    });
  }

  /** Exchanges the live weights with the averaged ones (call again to undo). */
  swap(vars: tf.Variable[]): void {
    for (const v of vars) {
      const s = this.shadow.get(paramName(v));
      if (!s) continue;
      const live = v.clone();
      v.assign(s);
      s.assign(live);
      live.dispose();
    }
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
  }
}
