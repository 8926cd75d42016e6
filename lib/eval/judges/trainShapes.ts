// Trains the Shapes judge on real (rendered) scenes and measures it on the real test split and on
// renders of the held-out colour-shape pairs. The judge is a measuring instrument, not the model
// under study: it trains on every pair (held-out ones included, from the `heldout` split with its
// own seed), so it can read what a generative model that never saw those pairs produces.
import * as tf from '@tensorflow/tfjs';
import { generateShapes, ShapesSample } from '../../data/shapes/index';
import { makeRng } from '../../data/rng';
import { initBackend } from '../../backend/select';
import {
  buildShapesJudge, encodeTargets, imagesToJudgeInput, judgeLoss, judgeShapes, shapesJudgeAccuracy, ShapesJudgeAccuracy,
  SHAPES_JUDGE_ARCH, JUDGE_SIDE,
} from './shapesJudge';
import { saveJudgeWeights, JudgeManifest } from './weights';

export interface TrainShapesJudgeOptions {
  steps: number;
  batchSize: number;
  trainSamples: number;
  /** Scenes from the `heldout` split mixed into training (seed `seed`); evaluation uses seed `seed + 1`. */
  heldoutSamples: number;
  testSamples: number;
  seed: number;
  learningRate: number;
  /** Largest std of the Gaussian pixel noise added to training images (drawn per image in [0, max]). */
  noiseStd: number;
  log?: (msg: string) => void;
}

export const DEFAULT_SHAPES_JUDGE: TrainShapesJudgeOptions = {
  steps: 1500, batchSize: 64, trainSamples: 20000, heldoutSamples: 5000, testSamples: 2000, seed: 0, learningRate: 2e-3, noiseStd: 0.06,
};

export const SHAPES_TARGETS = { shape: 0.99, color: 0.99, size: 0.99, position: 0.99, count: 0.99, counts: 0.99 };

/** A training batch with per-image Gaussian noise (so the judge reads slightly imperfect renders too). */
function noisyBatch(samples: ShapesSample[], rng: ReturnType<typeof makeRng>, noiseStd: number): tf.Tensor4D {
  return tf.tidy(() => {
    const x = imagesToJudgeInput(samples); // (B, 32, 32, 3)
    const stds = tf.tensor4d(samples.map(() => rng.next() * noiseStd), [samples.length, 1, 1, 1]);
    const noise = tf.randomNormal(x.shape, 0, 1, 'float32', Math.floor(rng.next() * 1e9)).mul(stds);
    return x.add(noise).clipByValue(0, 1) as tf.Tensor4D;
  });
}

export async function trainShapesJudge(
  opts: Partial<TrainShapesJudgeOptions> = {},
  outDir?: string,
): Promise<{ model: tf.LayersModel; accuracy: ShapesJudgeAccuracy; manifest: JudgeManifest | null; seconds: number }> {
  const o = { ...DEFAULT_SHAPES_JUDGE, ...opts };
  const log = o.log ?? (() => undefined);
  const backend = await initBackend();
  const t0 = Date.now();
  const train = [
    ...generateShapes({ split: 'train', count: o.trainSamples, seed: o.seed, size: JUDGE_SIDE }),
    ...generateShapes({ split: 'heldout', count: o.heldoutSamples, seed: o.seed, size: JUDGE_SIDE }),
  ];
  log(`generated ${train.length} training scenes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const model = buildShapesJudge(o.seed);
  const optimizer = tf.train.adam(o.learningRate);
  const rng = makeRng(`shapes-judge:${o.seed}`);
  const tStart = Date.now();
  for (let step = 0; step < o.steps; step++) {
    // Cosine decay to 5% of the base rate.
    (optimizer as unknown as { learningRate: number }).learningRate =
      o.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / o.steps)));
    const batch = Array.from({ length: o.batchSize }, () => train[rng.int(train.length)]);
    const x = noisyBatch(batch, rng, o.noiseStd);
    const targets = encodeTargets(batch.map((s) => s.attributes.objects));
    const loss = optimizer.minimize(() => judgeLoss((model.apply(x) as tf.Tensor[])[0] as tf.Tensor4D, targets), true) as tf.Scalar;
    if (step % 100 === 0 || step === o.steps - 1) log(`step ${step} loss ${(await loss.data())[0].toFixed(4)} (${((Date.now() - tStart) / 1000).toFixed(0)} s)`);
    tf.dispose([x, targets.obj, targets.cls, targets.off, loss]);
  }
  const seconds = (Date.now() - tStart) / 1000;
  optimizer.dispose();
  const test = generateShapes({ split: 'test', count: o.testSamples, seed: 0, size: JUDGE_SIDE });
  const { objects } = await judgeShapes(model, test);
  const accuracy = shapesJudgeAccuracy(test.map((s) => s.attributes.objects), objects, JUDGE_SIDE);
  log(`test accuracy ${JSON.stringify(accuracy)}`);
  const heldout = generateShapes({ split: 'heldout', count: o.testSamples, seed: o.seed + 1, size: JUDGE_SIDE });
  const heldoutRead = await judgeShapes(model, heldout);
  const heldoutAccuracy = shapesJudgeAccuracy(heldout.map((s) => s.attributes.objects), heldoutRead.objects, JUDGE_SIDE);
  log(`held-out pairs accuracy ${JSON.stringify(heldoutAccuracy)}`);
  let manifest: JudgeManifest | null = null;
  if (outDir) {
    const { meanCenterError, ...acc } = accuracy;
    manifest = await saveJudgeWeights(outDir, {
      name: 'shapes',
      architecture: SHAPES_JUDGE_ARCH,
      inputShape: [JUDGE_SIDE, JUDGE_SIDE, 3],
      seed: o.seed,
      steps: o.steps,
      batchSize: o.batchSize,
      trainSamples: o.trainSamples,
      trainSeconds: Math.round(seconds),
      backend: backend.backend,
      testAccuracy: { ...acc, meanCenterErrorPx: meanCenterError },
      testSamples: o.testSamples,
      heldoutAccuracy: (({ meanCenterError: e, ...rest }) => ({ ...rest, meanCenterErrorPx: e }))(heldoutAccuracy),
      heldoutSamples: o.testSamples,
      targets: SHAPES_TARGETS,
      command: 'npx crossflow eval train-judges --only shapes',
      createdAt: new Date().toISOString(),
    }, model.getWeights());
  }
  return { model, accuracy, manifest, seconds };
}
