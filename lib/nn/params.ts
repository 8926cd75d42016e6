// Named trainable parameters: a flat registry of tf.Variables, so optimisers, EMA, checkpoints
// and parameter counts all see the same list in the same (insertion) order.
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';

export type Init = 'zeros' | 'ones' | { normal: number } | 'xavier';

const logicalNames = new WeakMap<tf.Variable, string>();

/**
 * A tf.Variable known as `name` to checkpoints, EMA and the optimiser. tfjs names variables
 * engine-wide, so a second live copy of the same model (two runs loaded side by side in one
 * notebook) is registered as `name#2`, `name#3`, ... while paramName() keeps returning `name`.
 */
export function namedVariable(initial: tf.Tensor, trainable: boolean, name: string): tf.Variable {
  const taken = tf.engine().registeredVariables;
  let engineName = name;
  for (let k = 2; taken[engineName]; k++) engineName = `${name}#${k}`;
  const v = tf.variable(initial, trainable, engineName);
  logicalNames.set(v, name);
  return v;
}

/** The name a variable was created under (its checkpoint key), whatever its engine name. */
export function paramName(v: tf.Variable): string {
  return logicalNames.get(v) ?? v.name;
}

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  /** Fixed tensors owned by the models of this store (e.g. sine-cosine tables): freed by dispose(), never trained. */
  readonly constants: tf.Tensor[] = [];
  private readonly rng: seedrandom.PRNG;

  constructor(seed: number) {
    this.rng = seedrandom(`params-${seed}`);
  }

  /** Creates parameter `name` of `shape`; xavier treats the first dims as fan-in and the last as fan-out. */
  create(name: string, shape: number[], init: Init): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter '${name}' defined twice`);
    const size = shape.reduce((p, d) => p * d, 1);
    const values = new Float32Array(size);
    if (init === 'ones') values.fill(1);
    else if (init === 'xavier') {
      const fanOut = shape[shape.length - 1];
      const fanIn = size / fanOut;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (this.rng() * 2 - 1) * limit;
    } else if (typeof init === 'object') {
      // Box-Muller from the store's own stream keeps initialisation deterministic per seed.
      for (let i = 0; i < size; i += 2) {
        const u = Math.max(this.rng(), 1e-12);
        const r = Math.sqrt(-2 * Math.log(u)) * init.normal;
        const a = 2 * Math.PI * this.rng();
        values[i] = r * Math.cos(a);
        if (i + 1 < size) values[i + 1] = r * Math.sin(a);
      }
    }
    const initial = tf.tensor(values, shape);
    const v = namedVariable(initial, true, name);
    initial.dispose(); // the variable holds its own reference to the data
    this.vars.set(name, v);
    return v;
  }

  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  count(prefix = ''): number {
    let n = 0;
    for (const [name, v] of this.vars) if (name.startsWith(prefix)) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    for (const c of this.constants.splice(0)) c.dispose();
  }
}
