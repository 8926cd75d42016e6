// Frozen text encoders ("language models" of different strength) behind one interface: each turns
// captions into token embeddings x (B, n, d) and a padding mask (B, n), as CrossFlow's Text VE
// expects. Weakest to strongest: random table < word2vec < lm (masked-word transformer trained
// on captions only) < clip (text tower trained contrastively against images).
// All outputs have roughly unit variance per entry, and zeros at padding positions.
//
// This file holds only what the encoders share (the interface and small helpers); it imports none of
// them. Loading one by name is lib/text/registry.ts, which sits above the four encoder modules.
import * as tf from '@tensorflow/tfjs';
import { Tokenizer, TokenizeOptions, DEFAULT_MAX_TOKENS } from './tokenizer';
import type { EncoderManifest } from './weights';

export const TEXT_ENCODERS = ['random', 'word2vec', 'lm', 'clip'] as const;
export type TextEncoderName = (typeof TEXT_ENCODERS)[number];

export interface EncodedText {
  /** (B, n, d) token embeddings, zero at padding. */
  tokens: tf.Tensor3D;
  /** (B, n) 1 = token, 0 = padding. */
  mask: tf.Tensor2D;
}

/** How an encoder was made (from its manifest; 0 s and 0 steps for the untrained ones). */
export interface EncoderProvenance {
  seed: number;
  steps: number;
  trainingSeconds: number;
  command: string;
  metrics: Record<string, number>;
}

export interface TextEncoder {
  name: TextEncoderName;
  /** d: width of each token embedding. */
  dim: number;
  /** n: tokens per caption, including <bos> and <eos>. */
  maxTokens: number;
  /** Frozen parameters (embedding tables included). */
  paramCount: number;
  tokenizer: Tokenizer;
  provenance: EncoderProvenance;
  encode(captions: string[], opts?: Pick<TokenizeOptions, 'unknown'>): EncodedText;
  dispose(): void;
}

/** Sinusoidal positional encoding (Vaswani et al.), (n, d). */
export function sinusoidalPositions(n: number, d: number): Float32Array {
  const pe = new Float32Array(n * d);
  for (let pos = 0; pos < n; pos++)
    for (let i = 0; i < d; i += 2) {
      const freq = Math.pow(10000, -i / d);
      pe[pos * d + i] = Math.sin(pos * freq);
      if (i + 1 < d) pe[pos * d + i + 1] = Math.cos(pos * freq);
    }
  return pe;
}

/** Tokenizes to tensors: ids (B, n) int32 and mask (B, n) float32. */
export function tokenTensors(tok: Tokenizer, captions: string[], maxTokens = DEFAULT_MAX_TOKENS, opts: Pick<TokenizeOptions, 'unknown'> = {}): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const b = tok.encode(captions, { maxTokens, unknown: opts.unknown });
  return { ids: tf.tensor2d(b.ids, [captions.length, maxTokens], 'int32'), mask: tf.tensor2d(b.mask, [captions.length, maxTokens]) };
}

export function provenanceOf(m: EncoderManifest): EncoderProvenance {
  return { seed: m.seed, steps: m.steps, trainingSeconds: m.trainingSeconds, command: m.command, metrics: m.metrics };
}
