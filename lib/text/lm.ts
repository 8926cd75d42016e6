// `lm`: a small bidirectional transformer pretrained on captions only (no images) by masked-word
// prediction (BERT-style: 15% of the words hidden behind <mask>, predicted through the tied
// embedding table). As a frozen encoder it returns its final hidden states for every token.
import * as tf from '@tensorflow/tfjs';
import { namedVariable } from '../nn/params';
import { initBackend } from '../backend/select';
import { invalidValue } from '../errors';
import { makeRng } from '../data/rng';
import { captionTokenizer, DEFAULT_MAX_TOKENS, MASK_ID, SPECIAL_TOKENS, Tokenizer } from './tokenizer';
import { TextEncoder, provenanceOf, tokenTensors } from './encoder';
import { TransformerConfig, Weights, countParams, dense, embed, initTransformer, normalWeights, runTransformer } from './transformer';
import { EncoderManifest, TrainedWeights, TrainingLog, loadWeights, measureTraining, saveTrainedEncoder } from './weights';
import { captionCorpus } from './captionCorpus';

export interface LmConfig extends TransformerConfig {
  steps: number;
  batchSize: number;
  lr: number;
  maskRate: number;
  corpusSamples: number;
}

export const LM_DEFAULTS: LmConfig = { dim: 64, heads: 4, layers: 2, ffn: 256, positions: DEFAULT_MAX_TOKENS, steps: 1500, batchSize: 128, lr: 2e-3, maskRate: 0.15, corpusSamples: 8000 };

/** (B, n) ids -> (B, n, d) hidden states. */
function lmStates(w: Weights, cfg: TransformerConfig, ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
  const x = tf.mul(embed(ids, w['lm.tok']), Math.sqrt(cfg.dim)) as tf.Tensor3D; // (B, n, d)
  return runTransformer(w, 'lm.enc', cfg, x, mask);
}

/** Logits over the vocabulary through the tied embedding table: (B, n, d) -> (B, n, V). */
function lmLogits(w: Weights, h: tf.Tensor3D): tf.Tensor3D {
  return tf.add(dense(h, tf.transpose(w['lm.tok'])), w['lm.outBias']) as tf.Tensor3D;
}

/** Hides maskRate of the word tokens (at least one per caption) behind <mask>; returns inputs and a (B, n) 0/1 target weight. */
function maskBatch(ids: Int32Array, B: number, n: number, rate: number, rng: ReturnType<typeof makeRng>): { inputs: Int32Array; weight: Float32Array } {
  const inputs = ids.slice();
  const weight = new Float32Array(B * n);
  for (let b = 0; b < B; b++) {
    const words: number[] = [];
    for (let t = 0; t < n; t++) if (ids[b * n + t] >= SPECIAL_TOKENS.length) words.push(b * n + t);
    let chosen = words.filter(() => rng.next() < rate);
    if (chosen.length === 0 && words.length > 0) chosen = [words[rng.int(words.length)]];
    for (const p of chosen) {
      inputs[p] = MASK_ID;
      weight[p] = 1;
    }
  }
  return { inputs, weight };
}

function mlmLoss(w: Weights, cfg: TransformerConfig, inputs: tf.Tensor2D, targets: tf.Tensor2D, mask: tf.Tensor2D, weight: tf.Tensor2D, V: number): tf.Scalar {
  const logits = lmLogits(w, lmStates(w, cfg, inputs, mask)); // (B, n, V)
  const onehot = tf.oneHot(targets, V); // (B, n, V)
  const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1)); // (B, n)
  return tf.div(tf.sum(tf.mul(nll, weight)), tf.maximum(tf.sum(weight), 1)) as tf.Scalar;
}

/** Masked-word accuracy on held-out captions (every word masked once, one at a time per caption). */
export function maskedWordAccuracy(w: Weights, cfg: TransformerConfig, tok: Tokenizer, captions: string[]): number {
  const n = cfg.positions;
  let correct = 0;
  let total = 0;
  for (let s = 0; s < captions.length; s += 64) {
    const batch = tok.encode(captions.slice(s, s + 64), { maxTokens: n });
    // One copy per masked position: position t of caption b.
    const rows: Int32Array[] = [];
    const masks: Float32Array[] = [];
    const where: Array<[number, number]> = [];
    for (let b = 0; b < batch.batch; b++)
      for (let t = 0; t < n; t++) {
        const id = batch.ids[b * n + t];
        if (id < SPECIAL_TOKENS.length) continue;
        const row = batch.ids.slice(b * n, b * n + n);
        row[t] = MASK_ID;
        rows.push(row);
        masks.push(batch.mask.slice(b * n, b * n + n));
        where.push([t, id]);
      }
    const pred = tf.tidy(() => {
      const ids = tf.tensor2d(concat(rows, (k) => new Int32Array(k)), [rows.length, n], 'int32');
      const mask = tf.tensor2d(concat(masks, (k) => new Float32Array(k)), [rows.length, n]);
      return tf.argMax(lmLogits(w, lmStates(w, cfg, ids, mask)), -1).dataSync() as Int32Array; // (R, n)
    });
    where.forEach(([t, id], r) => {
      total++;
      if (pred[r * n + t] === id) correct++;
    });
  }
  return correct / Math.max(1, total);
}

/** Concatenates typed arrays of one kind into a new one. */
function concat<A extends Int32Array | Float32Array>(xs: A[], make: (n: number) => A): A {
  const out = make(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

export type TrainResult = TrainedWeights;

/** Pretrains the masked-word model. Deterministic for a seed on a given backend. */
export function trainLm(seed: number, cfg: LmConfig = LM_DEFAULTS, log: (msg: string) => void = () => {}): TrainResult {
  const tok = captionTokenizer();
  const V = tok.size;
  const corpus = captionCorpus(cfg.corpusSamples, seed);
  const encoded = tok.encode(corpus, { maxTokens: cfg.positions });
  const n = cfg.positions;
  const init: Weights = { ...initTransformer('lm.enc', cfg, seed), 'lm.tok': normalWeights(`lm.tok:${seed}`, [V, cfg.dim], 1 / Math.sqrt(cfg.dim)), 'lm.outBias': tf.zeros([V]) };
  const vars: Record<string, tf.Variable> = {};
  for (const [k, t] of Object.entries(init)) {
    vars[k] = namedVariable(t, true, k);
    t.dispose();
  }
  const optimizer = tf.train.adam(cfg.lr, 0.9, 0.98, 1e-8);
  const rng = makeRng(`lm-train:${seed}`);
  const training = new TrainingLog('lm', cfg.steps, 250, log);
  for (let step = 0; step < cfg.steps; step++) {
    const B = cfg.batchSize;
    const ids = new Int32Array(B * n);
    const mask = new Float32Array(B * n);
    for (let b = 0; b < B; b++) {
      const r = rng.int(corpus.length);
      ids.set(encoded.ids.subarray(r * n, r * n + n), b * n);
      mask.set(encoded.mask.subarray(r * n, r * n + n), b * n);
    }
    const { inputs, weight } = maskBatch(ids, B, n, cfg.maskRate, rng);
    // Linear warm-up over the first 5% of steps, then cosine decay.
    const warm = Math.max(1, Math.floor(cfg.steps * 0.05));
    const lr = step < warm ? (cfg.lr * (step + 1)) / warm : cfg.lr * 0.5 * (1 + Math.cos((Math.PI * (step - warm)) / (cfg.steps - warm)));
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    const loss = tf.tidy(() => {
      const tIn = tf.tensor2d(inputs, [B, n], 'int32');
      const tTarget = tf.tensor2d(ids, [B, n], 'int32');
      const tMask = tf.tensor2d(mask, [B, n]);
      const tWeight = tf.tensor2d(weight, [B, n]);
      return optimizer.minimize(() => mlmLoss(vars, cfg, tIn, tTarget, tMask, tWeight, V), true) as tf.Scalar;
    });
    training.record(step, loss);
  }
  optimizer.dispose();
  return training.finish(vars, countParams);
}

export const LM_COMMAND = 'npx crossflow data train-encoder lm --seed 0';

/** Trains and writes datasets/encoders/lm.{json,bin}. */
export async function trainAndSaveLm(seed = 0, overrides: Partial<LmConfig> = {}, log: (msg: string) => void = () => {}, dir?: string): Promise<EncoderManifest> {
  const backend = await initBackend();
  const cfg = { ...LM_DEFAULTS, ...overrides };
  const r = measureTraining(() => trainLm(seed, cfg, log));
  const tok = captionTokenizer();
  const val = captionCorpus(300, seed, 'val');
  const acc = maskedWordAccuracy(r.weights, cfg, tok, val.slice(0, 1000));
  return saveTrainedEncoder(
    {
      name: 'lm', command: LM_COMMAND, overrides, seed, config: cfg, run: r, backend: backend.backend,
      vocabulary: tok.words, metrics: { valMaskedWordAccuracy: Math.round(acc * 1e4) / 1e4 },
    },
    dir,
  );
}

export interface LmEncoder extends TextEncoder {
  /** Most likely words for the first <mask> in a caption, best first (the pretraining task). */
  fillMask(caption: string, topK?: number): Array<{ word: string; p: number }>;
}

export function loadLmEncoder(dir?: string): LmEncoder {
  const { manifest, weights } = loadWeights('lm', dir);
  const tokenizer = new Tokenizer(manifest.vocabulary.slice(SPECIAL_TOKENS.length));
  const cfg = manifest.config as unknown as LmConfig;
  return {
    name: 'lm',
    dim: cfg.dim,
    maxTokens: cfg.positions,
    paramCount: countParams(weights),
    tokenizer,
    provenance: provenanceOf(manifest),
    encode(captions, opts) {
      return tf.tidy(() => {
        const { ids, mask } = tokenTensors(tokenizer, captions, cfg.positions, opts);
        const h = lmStates(weights, cfg, ids, mask); // (B, n, d)
        return { tokens: tf.mul(h, tf.expandDims(mask, -1)) as tf.Tensor3D, mask };
      });
    },
    fillMask(caption, topK = 5) {
      const probs = tf.tidy(() => {
        const { ids, mask } = tokenTensors(tokenizer, [caption], cfg.positions);
        return tf.softmax(lmLogits(weights, lmStates(weights, cfg, ids, mask))).arraySync() as number[][][];
      });
      const at = tokenizer.encodeOne(caption).indexOf(MASK_ID);
      if (at < 0) throw invalidValue('caption', caption, 'a caption containing <mask>');
      return probs[0][at]
        .map((p, id) => ({ word: tokenizer.words[id], p }))
        .sort((a, b) => b.p - a.p)
        .slice(0, topK);
    },
    dispose() {
      Object.values(weights).forEach((t) => t.dispose());
    },
  };
}
