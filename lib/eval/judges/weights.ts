// Saving and loading a judge's weights without tfjs-node's file IO: one little-endian float32
// binary with every variable in model order, and a JSON manifest (shapes, how the judge was
// trained, its accuracy on the real test split). Both are small enough to commit.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../../errors';
import { repoPath } from '../../paths';

export interface JudgeManifest {
  name: string;
  architecture: string;
  inputShape: number[];
  weightShapes: number[][];
  seed: number;
  steps: number;
  batchSize: number;
  trainSamples: number;
  trainSeconds: number;
  backend: string;
  /** Accuracy per attribute on the real test split (fractions in [0, 1]). */
  testAccuracy: Record<string, number>;
  testSamples: number;
  /** Shapes: accuracy on renders of the held-out colour-shape pairs (the generative models never see them). */
  heldoutAccuracy?: Record<string, number>;
  heldoutSamples?: number;
  targets: Record<string, number>;
  retrainCommand: string;
  createdAt: string;
}

/** Default folder of the committed judges. */
export function judgesDir(): string {
  return repoPath('results', 'eval', 'judges');
}

export async function saveJudgeWeights(dir: string, manifest: Omit<JudgeManifest, 'weightShapes'>, weights: tf.Tensor[]): Promise<JudgeManifest> {
  fs.mkdirSync(dir, { recursive: true });
  const arrays = await Promise.all(weights.map((w) => w.data() as Promise<Float32Array>));
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const flat = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    flat.set(a, off);
    off += a.length;
  }
  const full: JudgeManifest = { ...manifest, weightShapes: weights.map((w) => w.shape) };
  fs.writeFileSync(path.join(dir, `${manifest.name}.bin`), Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
  fs.writeFileSync(path.join(dir, `${manifest.name}.json`), JSON.stringify(full, null, 2) + '\n');
  return full;
}

export function readJudgeManifest(name: string, dir = judgesDir()): JudgeManifest {
  const file = path.join(dir, `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new CrossflowError(`judge '${name}' has no weights in ${dir}; train it with: npx crossflow eval train-judges --only ${name}`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as JudgeManifest;
}

/** Loads weights into tensors (shapes from the manifest). */
export function loadJudgeWeights(name: string, dir = judgesDir()): { manifest: JudgeManifest; weights: tf.Tensor[] } {
  const manifest = readJudgeManifest(name, dir);
  const buf = fs.readFileSync(path.join(dir, `${name}.bin`));
  const flat = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let off = 0;
  const weights = manifest.weightShapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(flat.subarray(off, off + n), shape);
    off += n;
    return t;
  });
  if (off !== flat.length) throw new CrossflowError(`judge '${name}': weight file has ${flat.length} values, manifest needs ${off}`);
  return { manifest, weights };
}
