// Loading the committed judges (cached per process).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/select';
import { buildShapesJudge } from './shapesJudge';
import { buildDigitJudge } from './digitJudge';
import { loadJudgeWeights, judgesDir, JudgeManifest } from './weights';
import type { JudgeName } from './train';

const cache = new Map<string, { model: tf.LayersModel; manifest: JudgeManifest }>();

/** The judge network with its committed weights (from results/eval/judges unless `dir` is given). */
export async function loadJudge(name: JudgeName, dir = judgesDir()): Promise<{ model: tf.LayersModel; manifest: JudgeManifest }> {
  const key = `${dir}:${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  await initBackend();
  const { manifest, weights } = loadJudgeWeights(name, dir);
  const model = name === 'shapes' ? buildShapesJudge(manifest.seed) : buildDigitJudge(manifest.seed);
  model.setWeights(weights);
  tf.dispose(weights);
  const entry = { model, manifest };
  cache.set(key, entry);
  return entry;
}

export * from './shapesJudge';
export { judgeDigits, confusionMatrix, digitTestSplit, DIGIT_FEATURE_DIM, DIGIT_TARGETS } from './digitJudge';
export { judgesDir, readJudgeManifest } from './weights';
export type { JudgeManifest } from './weights';
