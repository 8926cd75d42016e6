// CrossFlow, top to bottom (Liu et al., "Flowing from Words to Pixels", CVPR 2025). Flow matching that
// starts at the text instead of at noise: a Text Variational Encoder turns the caption into z0 with the
// image latent's exact shape, and a plain transformer (self-attention only: no text input, no
// cross-attention) learns the velocity that carries z0 straight to the image latent z1.
//
// Shapes: B batch, n text tokens of width d (frozen text encoder), L x L x C image latent (8 x 8 x 4 here).
//
//   text tokens (B, n, d) --Text VE--> mu, logvar (B, L, L, C) --z0 = mu + exp(logvar / 2) eps--> z0
//   t ~ sigmoid(N(0, 1)) (B,);  z_t = t z1 + (1 - (1 - s) t) z0;  target v = z1 - (1 - s) z0
//   v_hat = flow(z_t, t, indicator) (B, L, L, C)
//   L = |v_hat - v|^2 + w_enc L_enc(z0, text or image) + w_kl KL(N(mu, sigma^2) || N(0, I))
//   sampling: z0 from the VE, Euler from t = 0 to 1 on v_u + w (v_c - v_u) (the CFG indicator), decode z1.
//
// This file is that story: buildModels assembles the parts, crossflowLoss is one training step's loss,
// sourceLatent and indicatorGuided are the sampler's two CrossFlow-specific steps. The parts live in
// their own files (textVE.ts, flowTransformer.ts, encoderLoss.ts, veLosses.ts; flow/ for the path, loss
// and solver; guidance/ for the indicator). train/objective.ts and sampling/generate.ts call these, and
// handle the standard flow-matching baseline (Gaussian source, cross-attention) beside it.
import * as tf from '@tensorflow/tfjs';
import { FlowTransformer, FlowTransformerConfig, flowTransformer } from './flowTransformer';
import { EncLoss, encoderLoss } from './encoderLoss';
import { TextVE, textVE } from './textVE';
import { ParamStore } from '../nn/params';
import { velocityFromData } from '../flow/parametrisation';
import { flowMatchingLoss } from '../flow/loss';
import { pathSample, targetVelocity } from '../flow/path';
import { guideDoubled } from '../guidance/combine';
import { indicatorBatch } from '../guidance/indicator';
import { klLoss } from './veLosses';
import type { TrainConfig } from '../config/schema';

export interface TextShape {
  /** Tokens per caption n and token width d of the frozen text encoder. */
  tokens: number;
  dim: number;
}

export interface LatentShape {
  size: number; // L
  channels: number; // C
}

export interface ParamCounts {
  /** Flow transformer (with cross-attention for the baseline). */
  flow: number;
  /** Text VE (CrossFlow only). */
  ve: number;
  /** Training-only modules: L_enc decoder/encoders and the logit scale (not used for sampling). */
  aux: number;
  /** What sampling uses and what presets are matched on: flow + ve. Excludes the frozen text encoder and autoencoder. */
  model: number;
}

export interface Models {
  config: TrainConfig;
  params: ParamStore;
  flow: FlowTransformer;
  ve: TextVE | null;
  enc: EncLoss | null;
  latent: LatentShape;
  text: TextShape;
  counts: ParamCounts;
  /** Names of the variables each phase trains. */
  varsOf(group: 've' | 'flow' | 'all'): tf.Variable[];
  dispose(): void;
}

export function flowConfigOf(c: TrainConfig, latent: LatentShape, text: TextShape): FlowTransformerConfig {
  const baseline = c.family === 'baseline';
  return {
    latentChannels: latent.channels,
    latentSize: latent.size,
    patchSize: c.model.patchSize,
    width: c.model.width,
    depth: c.model.depth,
    heads: c.model.heads,
    mlpRatio: c.model.mlpRatio,
    indicator: !baseline && c.guidance.mode === 'indicator',
    indicatorForm: c.model.indicatorForm,
    contextDim: baseline ? text.dim : null,
    init: c.model.init,
    posEmbed: c.model.posEmbed,
    globalCond: c.model.globalCond,
  };
}

export function buildModels(c: TrainConfig, latent: LatentShape, text: TextShape): Models {
  const params = new ParamStore(c.seed);
  const network = flowTransformer(flowConfigOf(c, latent, text), params, 'flow');
  // Every caller (training objective, samplers) sees a velocity, whatever the network predicts.
  const flow: FlowTransformer =
    c.model.predict === 'data'
      ? { ...network, apply: (z, t, ind, ctx) => tf.tidy(() => velocityFromData(network.apply(z, t, ind, ctx), z, t, c.flow.sigmaMin)) as tf.Tensor4D }
      : network;
  let ve: TextVE | null = null;
  let enc: EncLoss | null = null;
  if (c.family === 'crossflow') {
    ve = textVE({ textTokens: text.tokens, textDim: text.dim, latentChannels: latent.channels, latentSize: latent.size, ...c.ve }, params, 've');
    enc = encoderLoss(c.enc, { textTokens: text.tokens, textDim: text.dim, latentSize: latent.size, latentChannels: latent.channels }, params, 'aux');
  }
  const counts: ParamCounts = { flow: params.count('flow.'), ve: params.count('ve.'), aux: params.count('aux.'), model: 0 };
  counts.model = counts.flow + counts.ve;
  const varsOf = (group: 've' | 'flow' | 'all') =>
    [...params.vars].filter(([n]) => group === 'all' || (group === 'flow' ? n.startsWith('flow.') : n.startsWith('ve.') || n.startsWith('aux.'))).map(([, v]) => v);
  return { config: c, params, flow, ve, enc, latent, text, counts, varsOf, dispose: () => params.dispose() };
}

// ---- Training: one step's loss ---------------------------------------------------------------------

/** What one step draws for CrossFlow (all from the step's seeded stream; see train/objective.ts). */
export interface CrossflowBatch {
  /** Frozen text encoder output: tokens (B, n, d) and mask (B, n). */
  tokens: tf.Tensor3D;
  mask: tf.Tensor2D;
  /** Image latents z1 (B, L, L, C). */
  z1: tf.Tensor4D;
  /** VE reparameterisation noise eps (B, L, L, C). */
  eps: tf.Tensor4D;
  /** Flow times t (B,). */
  t: tf.Tensor1D;
  /** Per-item uniforms that mark the CFG indicator's unconditional items (< guidance.uncondProb). */
  uncondUniforms: ArrayLike<number>;
  dropoutSeed: number;
}

export interface CrossflowLoss {
  total: tf.Scalar;
  flow: tf.Scalar;
  enc: tf.Scalar;
  kl: tf.Scalar;
  /** Items trained as unconditional (indicator 0). */
  uncond: number;
}

/**
 * The loss of one step (call inside tf.variableGrads). `phase`: 'joint' trains everything; 've' the VE
 * alone on L_enc + KL (the first stage of the 2-stage strategies); 'flow' the flow on a frozen VE.
 */
export function crossflowLoss(m: Models, b: CrossflowBatch, phase: 'joint' | 've' | 'flow'): CrossflowLoss {
  const c = m.config;
  const zero = tf.scalar(0);
  // 1. Text VE: (B, n, d) -> mu, logvar (B, L, L, C); z0 = mu + sigma eps. A frozen VE runs without dropout.
  const veTrains = phase !== 'flow';
  const { mu, logvar, z0 } = m.ve!.apply(b.tokens, b.mask, b.eps, veTrains ? b.dropoutSeed : undefined);
  // 2. The VE's own losses: KL to N(0, I) (the full VE only) and L_enc, which shapes its latent space.
  const kl = veTrains && c.ve.variant === 've' ? klLoss(mu, logvar, c.kl.form) : zero;
  const enc = veTrains ? m.enc!.apply({ z0, tokens: b.tokens, mask: b.mask, z1: b.z1 }) : zero;
  if (phase === 've') return { total: enc.mul(c.enc.weight).add(kl.mul(c.kl.weight)) as tf.Scalar, flow: zero, enc, kl, uncond: 0 };
  // 3. The CFG indicator: ~uncondProb of the items get indicator 0 and flow to another item's image.
  let target = b.z1;
  let indicator: tf.Tensor1D | null = null;
  let uncond = 0;
  if (c.guidance.mode === 'indicator') {
    const ib = indicatorBatch(b.uncondUniforms, c.guidance.uncondProb);
    target = tf.gather(b.z1, tf.tensor1d(ib.targetIndex, 'int32')) as tf.Tensor4D; // (B, L, L, C), rotated
    indicator = tf.tensor1d(ib.indicator, 'int32'); // (B,)
    uncond = ib.unconditional;
  }
  // 4. The path from z0 to the image, and the velocity the flow must predict there.
  const zt = pathSample(z0, target, b.t, c.flow.sigmaMin) as tf.Tensor4D; // (B, L, L, C)
  const pred = m.flow.apply(zt, b.t, indicator); // (B, L, L, C)
  const flow = flowMatchingLoss(pred, targetVelocity(z0, target, c.flow.sigmaMin));
  // 5. One loss for everything: the flow loss also trains the VE (no stop-gradient on z0).
  const total = phase === 'flow' ? flow : (flow.add(enc.mul(c.enc.weight)).add(kl.mul(c.kl.weight)) as tf.Scalar);
  return { total, flow, enc, kl, uncond };
}

// ---- Sampling ----------------------------------------------------------------------------------------

/** z0 for captions: the sampled Text VE latent, (B, n, d) tokens -> (B, L, L, C), as in training. */
export function sourceLatent(ve: TextVE, tokens: tf.Tensor3D, mask: tf.Tensor2D, eps: tf.Tensor4D): tf.Tensor4D {
  return ve.apply(tokens, mask, eps).z0;
}

/**
 * The CFG indicator's guided velocity at z_t: one doubled batch [indicator 1; indicator 0] at the same
 * z_t, then v_u + w (v_c - v_u). `both` is the (2B,) indicator [1 x B; 0 x B].
 */
export function indicatorGuided(flow: FlowTransformer, z: tf.Tensor4D, t: tf.Tensor1D, both: tf.Tensor1D, w: number): tf.Tensor {
  const vBoth = flow.apply(tf.concat([z, z]) as tf.Tensor4D, tf.concat([t, t]) as tf.Tensor1D, both); // (2B, L, L, C)
  return guideDoubled(vBoth, w);
}
