// Saving and loading a judge's weights without tfjs-node's file IO: `<name>.bin`, a weights file
// (lib/nn/weightsFile.ts, the format checkpoints and text encoders use too) holding every variable in
// model order, and `<name>.json`, a manifest (how the judge was trained, its accuracy on the real test
// split). Both are small enough to commit.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../../errors';
import { readWeightsFile, writeWeightsFile } from '../../nn/weightsFile';
import { repoPath } from '../../paths';

export interface JudgeManifest {
  name: string;
  architecture: string;
  inputShape: number[];
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
  command: string;
  createdAt: string;
}

/** The header metadata of a judge's `.bin` weights file; its tensors are named w0, w1, ... in model.getWeights() order. */
export interface JudgeWeightsMeta {
  kind: 'judge';
  name: string;
}

/** The stored name of the i-th of a model's weights (model.getWeights() order). */
export const judgeWeightName = (i: number): string => `w${i}`;

/** Default folder of the committed judges. */
export function judgesDir(): string {
  return repoPath('results', 'eval', 'judges');
}

export async function saveJudgeWeights(dir: string, manifest: JudgeManifest, weights: tf.Tensor[]): Promise<JudgeManifest> {
  fs.mkdirSync(dir, { recursive: true });
  const meta: JudgeWeightsMeta = { kind: 'judge', name: manifest.name };
  writeWeightsFile(path.join(dir, `${manifest.name}.bin`), meta, weights.map((w, i) => [judgeWeightName(i), w] as [string, tf.Tensor]));
  fs.writeFileSync(path.join(dir, `${manifest.name}.json`), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export function readJudgeManifest(name: string, dir = judgesDir()): JudgeManifest {
  const file = path.join(dir, `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new CrossflowError(`judge '${name}' has no weights in ${dir}; train it with: npx crossflow eval train-judges --only ${name}`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as JudgeManifest;
}

/** Loads the manifest and the weights, as tensors in model.getWeights() order. */
export function loadJudgeWeights(name: string, dir = judgesDir()): { manifest: JudgeManifest; weights: tf.Tensor[] } {
  const manifest = readJudgeManifest(name, dir);
  const file = path.join(dir, `${name}.bin`);
  const retrain = `npx crossflow eval train-judges --only ${name}`;
  const wf = readWeightsFile<JudgeWeightsMeta>(file, {
    what: `judge '${name}' weights`,
    missing: (f) => `judge '${name}' has a manifest but no weights at ${f}; train it with: ${retrain}`,
    fallback: () => `The committed copy can be restored with git; or train it again with: ${retrain}`,
  });
  if (wf.meta?.kind !== 'judge' || wf.meta.name !== name) throw new CrossflowError(`${file} holds ${JSON.stringify(wf.meta)}, not judge '${name}'s weights; train it with: ${retrain}`);
  const names = [...wf.tensors.keys()];
  if (!names.every((n, i) => n === judgeWeightName(i))) throw new CrossflowError(`${file}: tensors ${names.join(', ')} are not w0..w${names.length - 1} in order; train it again with: ${retrain}`);
  const weights = [...wf.tensors.values()].map((e) => tf.tensor(e.values, e.shape));
  return { manifest, weights };
}
