// One training batch and its loss terms, for both families.
//   CrossFlow: crossflowLoss in models/crossflow.ts (the method, top to bottom).
//   Baseline: z0 ~ N(0, I), text through cross-attention, captions dropped to "" with p_uncond (CFG).
// Every random number comes from the per-step stream `train:<seed>:<step>`, so step k's batch is the
// same whether the run was interrupted or not (that is what makes resume exact).
import * as tf from '@tensorflow/tfjs';
import { makeRng } from '../data/rng';
import { pathSample, targetVelocity } from '../flow/path';
import { flowMatchingLoss } from '../flow/loss';
import { timesFrom } from '../flow/time';
import { crossflowLoss, type Models } from '../models/crossflow';
import type { EncodedText, TextEncoder } from '../text/encoder';
import type { TrainConfig } from '../config/schema';
import type { Phase } from './config';
import type { TextImageData } from '../trainingData/latents';

export interface StepDraw {
  indices: Int32Array;
  captions: string[];
  timeNormals: Float32Array;
  timeUniforms: Float32Array;
  /** VE reparameterisation (CrossFlow) or source noise (baseline): (B, L, L, C). */
  eps: Float32Array;
  uncondUniforms: Float32Array;
  dropoutSeed: number;
}

/** All random draws of one step from the stream (seed, step). */
export function drawStep(c: TrainConfig, data: TextImageData, step: number): StepDraw {
  const rng = makeRng(`train:${c.seed}:${step}`);
  const B = c.batchSize;
  const D = data.latentSize * data.latentSize * data.latentChannels;
  const indices = Int32Array.from({ length: B }, () => rng.int(data.count));
  const captions = Array.from(indices, (i) => rng.pick(data.captions[i]));
  const timeNormals = Float32Array.from({ length: B }, () => rng.normal());
  const timeUniforms = Float32Array.from({ length: B }, () => rng.next());
  const eps = Float32Array.from({ length: B * D }, () => rng.normal());
  const uncondUniforms = Float32Array.from({ length: B }, () => rng.next());
  const dropoutSeed = rng.int(2 ** 30);
  return { indices, captions, timeNormals, timeUniforms, eps, uncondUniforms, dropoutSeed };
}

export interface LossTerms {
  total: tf.Scalar;
  flow: tf.Scalar;
  enc: tf.Scalar;
  kl: tf.Scalar;
}

function gatherLatents(data: TextImageData, indices: ArrayLike<number>): tf.Tensor4D {
  const L = data.latentSize;
  const C = data.latentChannels;
  const D = L * L * C;
  const out = new Float32Array(indices.length * D);
  for (let b = 0; b < indices.length; b++) out.set(data.latents.subarray(indices[b] * D, (indices[b] + 1) * D), b * D);
  return tf.tensor4d(out, [indices.length, L, L, C]);
}

/** The loss terms of one step (call inside tf.variableGrads / tf.tidy). Also returns the number of unconditional items. */
export function lossTerms(models: Models, text: TextEncoder, data: TextImageData, draw: StepDraw, phase: Phase['name']): LossTerms & { uncond: number } {
  const c = models.config;
  const B = draw.indices.length;
  const L = data.latentSize;
  const C = data.latentChannels;
  const z1 = gatherLatents(data, draw.indices); // (B, L, L, C)
  const eps = tf.tensor4d(draw.eps, [B, L, L, C]);
  const t = tf.tensor1d(timesFrom({ kind: c.flow.time, mean: c.flow.timeMean, std: c.flow.timeStd }, draw.timeNormals, draw.timeUniforms));
  const zero = tf.scalar(0);
  if (c.family === 'baseline') {
    const drop = c.guidance.mode === 'cfg' ? c.guidance.uncondProb : 0;
    const captions = draw.captions.map((s, i) => (draw.uncondUniforms[i] < drop ? '' : s));
    const enc: EncodedText = text.encode(captions);
    const zt = pathSample(eps, z1, t, c.flow.sigmaMin) as tf.Tensor4D;
    const pred = models.flow.apply(zt, t, null, enc);
    const flow = flowMatchingLoss(pred, targetVelocity(eps, z1, c.flow.sigmaMin));
    const uncond = captions.filter((s) => s === '').length;
    return { total: flow, flow, enc: zero, kl: zero, uncond };
  }
  const { tokens, mask } = text.encode(draw.captions);
  return crossflowLoss(models, { tokens, mask, z1, eps, t, uncondUniforms: draw.uncondUniforms, dropoutSeed: draw.dropoutSeed }, phase);
}
