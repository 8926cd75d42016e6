// The weakest encoder: a frozen table of random N(0, 1) vectors per word, plus sinusoidal positions.
// Nothing is trained or stored; the table is a function of the seed and the vocabulary.
import * as tf from '@tensorflow/tfjs';
import { captionTokenizer, DEFAULT_MAX_TOKENS } from './tokenizer';
import { TextEncoder, sinusoidalPositions, tokenTensors } from './encoder';
import { normalWeights, embed } from './transformer';

export const RANDOM_ENCODER_DIM = 64;

export function loadRandomEncoder(seed = 0, dim = RANDOM_ENCODER_DIM): TextEncoder {
  const tokenizer = captionTokenizer();
  const n = DEFAULT_MAX_TOKENS;
  const table = normalWeights(`random-encoder:${seed}`, [tokenizer.size, dim], 1); // (V, d)
  const positions = tf.tensor2d(sinusoidalPositions(n, dim), [n, dim]); // (n, d)
  return {
    name: 'random',
    dim,
    maxTokens: n,
    paramCount: table.size,
    tokenizer,
    provenance: { seed, steps: 0, trainingSeconds: 0, command: '(none: generated from the seed at load time)', metrics: {} },
    encode(captions, opts) {
      return tf.tidy(() => {
        const { ids, mask } = tokenTensors(tokenizer, captions, n, opts);
        const x = tf.add(embed(ids, table), positions); // (B, n, d) + (n, d)
        return { tokens: tf.mul(x, tf.expandDims(mask, -1)) as tf.Tensor3D, mask };
      });
    },
    dispose() {
      table.dispose();
      positions.dispose();
    },
  };
}
