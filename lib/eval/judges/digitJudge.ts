// Classifier judges for MNIST and Fashion-MNIST: a small CNN trained on the real training split,
// measured on the real test split. Input (B, 32, 32, 1) in [0, 1] (28x28 images are zero-padded
// by 2, as the data loader's size-32 option does). Features for FID: the 128-unit hidden layer.
import * as tf from '@tensorflow/tfjs';
import { loadClass, loadMnist, MnistDataset, MnistSplit, SPLIT_FRACTIONS } from '../../data/mnist';
import { makeRng } from '../../data/rng';
import { initBackend } from '../../backend/select';
import { saveJudgeWeights, JudgeManifest } from './weights';

export const DIGIT_SIDE = 32;
export const DIGIT_FEATURE_DIM = 128;
export const DIGIT_JUDGE_ARCH = 'conv3x3(32)-conv3x3s2(32)-conv3x3(64)-conv3x3s2(64)-conv3x3s2(64)-dense(128)-dense(10), relu, same padding';
export const DIGIT_TARGETS: Record<MnistDataset, number> = { mnist: 0.98, fashion: 0.9 };

/**
 * (B, 32, 32, 1) -> [logits (B, 10), features (B, 128)]. Downsampling by strided convolutions,
 * not max pooling: the MaxPoolGrad kernel of the wasm backend (also used by `native`) returns
 * wrong gradients in tfjs 4.22 (a 2x2 pooling checked against a hand-written reference differs
 * by up to 18; the cpu backend matches it), and with max pooling Fashion-MNIST training
 * repeatedly collapsed to a constant prediction.
 */
export function buildDigitJudge(seed = 0): tf.LayersModel {
  const input = tf.input({ shape: [DIGIT_SIDE, DIGIT_SIDE, 1] });
  let x = input;
  let k = 0;
  for (const [filters, strides] of [[32, 1], [32, 2], [64, 1], [64, 2], [64, 2]]) {
    x = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed * 100 + k++ }) }).apply(x) as tf.SymbolicTensor;
  } // 32 -> 32 -> 16 -> 16 -> 8 -> 4
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor; // (B, 4*4*64)
  const features = tf.layers.dense({ units: DIGIT_FEATURE_DIM, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed * 100 + 10 }) }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 11 }) }).apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [logits, features] });
}

/** Pads/accepts (H, W) grayscale images of side 28 or 32 into a (B, 32, 32, 1) tensor, with optional shifts. */
export function digitsToInput(images: ReadonlyArray<{ pixels: ArrayLike<number>; width: number; height: number }>, shifts?: Array<[number, number]>): tf.Tensor4D {
  const S = DIGIT_SIDE;
  const data = new Float32Array(images.length * S * S);
  images.forEach((im, n) => {
    const pad = (S - im.width) / 2;
    const [dx, dy] = shifts ? shifts[n] : [0, 0];
    for (let y = 0; y < im.height; y++) for (let x = 0; x < im.width; x++) {
      const ty = y + pad + dy, tx = x + pad + dx;
      if (ty < 0 || ty >= S || tx < 0 || tx >= S) continue;
      data[n * S * S + ty * S + tx] = im.pixels[y * im.width + x];
    }
  });
  return tf.tensor4d(data, [images.length, S, S, 1]);
}

/** Predicted labels, class probabilities (B, 10) and features (B, 128). */
export async function judgeDigits(
  model: tf.LayersModel,
  images: ReadonlyArray<{ pixels: ArrayLike<number>; width: number; height: number }>,
  batchSize = 500,
): Promise<{ labels: Int32Array; probs: Float32Array; features: Float32Array }> {
  const labels = new Int32Array(images.length);
  const probs = new Float32Array(images.length * 10);
  const features = new Float32Array(images.length * DIGIT_FEATURE_DIM);
  for (let s = 0; s < images.length; s += batchSize) {
    const chunk = images.slice(s, s + batchSize);
    const [p, f, a] = tf.tidy(() => {
      const [logits, feats] = model.predict(digitsToInput(chunk)) as tf.Tensor[];
      return [tf.softmax(logits), feats, logits.argMax(1)];
    });
    probs.set((await p.data()) as Float32Array, s * 10);
    features.set((await f.data()) as Float32Array, s * DIGIT_FEATURE_DIM);
    labels.set((await a.data()) as Int32Array, s);
    tf.dispose([p, f, a]);
  }
  return { labels, probs, features };
}

export interface TrainDigitJudgeOptions {
  steps: number;
  batchSize: number;
  seed: number;
  learningRate: number;
  /** Random translation of training images by up to this many pixels. */
  maxShift: number;
  log?: (msg: string) => void;
}

export const DEFAULT_DIGIT_JUDGE: Record<MnistDataset, TrainDigitJudgeOptions> = {
  mnist: { steps: 1200, batchSize: 64, seed: 0, learningRate: 2e-3, maxShift: 2 },
  fashion: { steps: 2500, batchSize: 64, seed: 0, learningRate: 1e-3, maxShift: 1 },
};

/** Accuracy and the 10x10 confusion matrix (rows: true label, columns: predicted). */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, classes = 10): { accuracy: number; matrix: number[][] } {
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let right = 0;
  for (let i = 0; i < truth.length; i++) {
    matrix[truth[i]][pred[i]]++;
    if (truth[i] === pred[i]) right++;
  }
  return { accuracy: right / truth.length, matrix };
}

export async function trainDigitJudge(
  dataset: MnistDataset,
  opts: Partial<TrainDigitJudgeOptions> = {},
  outDir?: string,
): Promise<{ model: tf.LayersModel; accuracy: number; matrix: number[][]; manifest: JudgeManifest | null; seconds: number }> {
  const o = { ...DEFAULT_DIGIT_JUDGE[dataset], ...opts };
  const log = o.log ?? (() => undefined);
  const backend = await initBackend();
  // The whole training split, in the loader's seeded order.
  const trainAll = loadMnist({ dataset, split: 'train', count: splitSize(dataset, 'train'), seed: 0 }).filter(isValidImage);
  log(`${dataset}: ${trainAll.length} training images`);
  const model = buildDigitJudge(o.seed);
  let optimizer = tf.train.adam(o.learningRate);
  const rng = makeRng(`digit-judge:${dataset}:${o.seed}`);
  const t0 = Date.now();
  // Collapse guard: on Fashion-MNIST the network sometimes collapses to a constant prediction
  // (loss jumps to ln 10) after a few hundred healthy steps. Every 50 steps the weights are kept
  // while the smoothed loss is near its best; after a collapse they are restored, the optimizer
  // restarts and the learning rate halves. A run without a collapse is unchanged by this.
  let ema = NaN;
  let bestEma = Infinity;
  let snapshot: tf.Tensor[] | null = null;
  let lrScale = 1;
  let restores = 0;
  for (let step = 0; step < o.steps; step++) {
    (optimizer as unknown as { learningRate: number }).learningRate =
      lrScale * o.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / o.steps)));
    const batch = Array.from({ length: o.batchSize }, () => trainAll[rng.int(trainAll.length)]);
    const shifts = batch.map(() => [rng.int(2 * o.maxShift + 1) - o.maxShift, rng.int(2 * o.maxShift + 1) - o.maxShift] as [number, number]);
    const x = digitsToInput(batch, shifts);
    const y = tf.oneHot(tf.tensor1d(batch.map((s) => s.label), 'int32'), 10);
    // Gradients clipped to a global norm of 5: one bad batch must not blow the run up.
    const { value: loss, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, (model.apply(x) as tf.Tensor[])[0]) as tf.Scalar);
    const clipped = tf.tidy(() => {
      const names = Object.keys(grads);
      const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k])))));
      const scale = tf.minimum(tf.scalar(1), tf.div(5, tf.maximum(norm, 1e-12)));
      return Object.fromEntries(names.map((k) => [k, tf.mul(grads[k], scale)]));
    });
    optimizer.applyGradients(clipped as unknown as tf.NamedTensorMap as never);
    tf.dispose([...Object.values(grads), ...Object.values(clipped)]);
    const lossValue = (await loss.data())[0];
    if (!Number.isFinite(lossValue)) {
      // A non-finite loss (seen on the native backend for Fashion-MNIST): same recovery as a collapse.
      tf.dispose([x, y, loss]);
      if (!snapshot || restores >= 8) throw new Error(`${dataset} judge: loss became ${lossValue} at step ${step}`);
      model.setWeights(snapshot);
      optimizer.dispose();
      optimizer = tf.train.adam(o.learningRate);
      lrScale /= 2;
      restores++;
      log(`${dataset} step ${step}: loss ${lossValue}; weights restored, learning rate x${lrScale}`);
      continue;
    }
    if (step % 200 === 0 || step === o.steps - 1) log(`${dataset} step ${step} loss ${lossValue.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    tf.dispose([x, y, loss]);
    ema = Number.isNaN(ema) ? lossValue : 0.95 * ema + 0.05 * lossValue;
    if (step % 50 === 49) {
      if (snapshot && ema > Math.max(2 * bestEma, bestEma + 0.5)) {
        model.setWeights(snapshot);
        optimizer.dispose();
        optimizer = tf.train.adam(o.learningRate);
        lrScale /= 2;
        restores++;
        log(`${dataset} step ${step}: loss ${ema.toFixed(3)} collapsed (best ${bestEma.toFixed(3)}); weights restored, learning rate x${lrScale}`);
        ema = bestEma;
      } else if (!snapshot || ema <= 1.1 * bestEma) {
        if (snapshot) tf.dispose(snapshot);
        snapshot = model.getWeights().map((w) => w.clone());
        bestEma = Math.min(bestEma, ema);
      }
    }
  }
  if (snapshot) tf.dispose(snapshot);
  if (restores) log(`${dataset}: ${restores} collapse(s) recovered`);
  const seconds = (Date.now() - t0) / 1000;
  optimizer.dispose();
  const { accuracy, matrix, n } = await digitJudgeTestAccuracy(model, dataset);
  log(`${dataset}: test accuracy ${(100 * accuracy).toFixed(2)}% on ${n} images`);
  let manifest: JudgeManifest | null = null;
  if (outDir) {
    manifest = await saveJudgeWeights(outDir, {
      name: dataset,
      architecture: DIGIT_JUDGE_ARCH,
      inputShape: [DIGIT_SIDE, DIGIT_SIDE, 1],
      seed: o.seed,
      steps: o.steps,
      batchSize: o.batchSize,
      trainSamples: trainAll.length,
      trainSeconds: Math.round(seconds),
      backend: backend.backend,
      testAccuracy: { label: accuracy },
      testSamples: n,
      targets: { label: DIGIT_TARGETS[dataset] },
      command: `npx crossflow eval train-judges --only ${dataset}`,
      createdAt: new Date().toISOString(),
    }, model.getWeights());
  }
  return { model, accuracy, matrix, manifest, seconds };
}

/** The whole real test split of a dataset. */
export function digitTestSplit(dataset: MnistDataset) {
  return loadMnist({ dataset, split: 'test', count: splitSize(dataset, 'test'), seed: 0 }).filter(isValidImage);
}

/**
 * The fashion-mnist package's class-0 file holds two empty rows (indices 1000 and 7001); the
 * loader turns them into all-NaN images (one in train, one in test). They are not images: skip them.
 */
export function isValidImage(s: { pixels: ArrayLike<number> }): boolean {
  for (let i = 0; i < s.pixels.length; i++) if (!Number.isFinite(s.pixels[i])) return false;
  return true;
}

/** Number of images in a split, computed as the loader does (per class, by fraction). */
export function splitSize(dataset: MnistDataset, split: MnistSplit): number {
  const [f0, f1] = SPLIT_FRACTIONS[split];
  let n = 0;
  for (let label = 0; label < 10; label++) {
    const c = loadClass(dataset, label).length;
    n += Math.floor(f1 * c) - Math.floor(f0 * c);
  }
  return n;
}

export async function digitJudgeTestAccuracy(model: tf.LayersModel, dataset: MnistDataset) {
  const test = digitTestSplit(dataset);
  const { labels } = await judgeDigits(model, test);
  return { ...confusionMatrix(test.map((s) => s.label), labels), n: test.length };
}
