// Assembles the trainable models of a config: CrossFlow = Text VE + flow transformer (self-attention
// only, CFG indicator) + the auxiliary L_enc module; baseline = flow transformer with cross-attention
// to the frozen text tokens. All parameters live in one ParamStore (one optimiser, one EMA, one file).
import * as tf from '@tensorflow/tfjs';
import { FlowTransformer, FlowTransformerConfig, flowTransformer } from './flowTransformer';
import { EncLoss, encoderLoss } from './encoderLoss';
import { TextVE, textVE } from './textVE';
import { ParamStore } from '../nn/params';
import { velocityFromData } from '../flow/parametrisation';
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
