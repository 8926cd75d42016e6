// The text encoder registry: loads a frozen text encoder by name. It sits above the four encoder
// modules (random, word2vec, lm, clip), which import only the shared interface in ./encoder, so the
// dependencies point one way: registry -> encoders -> encoder.
import { invalidValue } from '../errors';
import { TEXT_ENCODERS, TextEncoder, TextEncoderName } from './encoder';
import { loadRandomEncoder } from './random';
import { loadWord2VecEncoder } from './word2vec';
import { loadLmEncoder } from './lm';
import { loadClip } from './clip';

export { TEXT_ENCODERS };
export type { TextEncoder, TextEncoderName };

/** Every encoder's loader (weights from datasets/encoders/, nothing is trained here). */
const LOADERS: Record<TextEncoderName, () => TextEncoder> = {
  random: () => loadRandomEncoder(),
  word2vec: () => loadWord2VecEncoder(),
  lm: () => loadLmEncoder(),
  clip: () => loadClip().text,
};

/** Loads a frozen text encoder by name (weights from datasets/encoders/, nothing is trained here). */
export async function loadTextEncoder(name: TextEncoderName | string): Promise<TextEncoder> {
  if (!Object.prototype.hasOwnProperty.call(LOADERS, name)) throw invalidValue('text encoder', name, TEXT_ENCODERS.join(', '));
  return LOADERS[name as TextEncoderName]();
}

/** One table row per encoder: what the notebook and `crossflow data encoders` report. */
export async function describeEncoders(): Promise<Array<{ name: string; dim: number; maxTokens: number; params: number; trainingSeconds: number; steps: number; seed: number; command: string }>> {
  const rows = [];
  for (const name of TEXT_ENCODERS) {
    const e = await loadTextEncoder(name);
    rows.push({ name, dim: e.dim, maxTokens: e.maxTokens, params: e.paramCount, trainingSeconds: e.provenance.trainingSeconds, steps: e.provenance.steps, seed: e.provenance.seed, command: e.provenance.command });
    e.dispose();
  }
  return rows;
}
