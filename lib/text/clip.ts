// `clip`: a small CLIP trained contrastively on Shapes image-caption pairs (train split only; the
// held-out color-shape pairs are never seen). Text tower: transformer over caption tokens, masked
// mean pool, linear projection. Image tower: a ViT on 8x8 patches of the 32x32 image (4x4 tokens: 4x cheaper than 4x4 patches on 2 cores), mean pool,
// linear projection. As a frozen text encoder it returns the text tower's token states (B, n, d),
// as CrossFlow uses CLIP's last hidden states; the pooled embeddings and the image tower serve
// evaluation (CLIP score, R-precision). Half the pairs of a batch also bring a hard negative caption
// (objects of a relation swapped, colors swapped, count or color changed): plain in-batch negatives
// rarely differ only in word order or binding, so without them the towers stay bag-of-words.
import * as tf from '@tensorflow/tfjs';
import { namedVariable } from '../nn/params';
import { initBackend } from '../backend/select';
import { makeRng, Rng } from '../data/rng';
import { generateShapes, ShapesSample, ShapeObject, captionsOf, isHeldoutPair, COLORS } from '../data/shapes/index';
import { invalidValue } from '../errors';
import { captionTokenizer, DEFAULT_MAX_TOKENS, SPECIAL_TOKENS, Tokenizer } from './tokenizer';
import { TextEncoder, provenanceOf, tokenTensors } from './encoder';
import { TransformerConfig, Weights, countParams, dense, embed, initTransformer, maskedMean, normalWeights, runTransformer } from './transformer';
import { EncoderManifest, TrainedWeights, TrainingLog, loadWeights, measureTraining, saveTrainedEncoder } from './weights';

export interface ClipConfig {
  dim: number;
  heads: number;
  layers: number;
  ffn: number;
  /** Joint embedding width. */
  embedDim: number;
  imageSize: number;
  patch: number;
  steps: number;
  batchSize: number;
  lr: number;
  trainSamples: number;
  /** Fraction of pairs that also bring a hard negative caption (0 = plain CLIP). */
  hardNegatives: number;
}

export const CLIP_DEFAULTS: ClipConfig = { dim: 64, heads: 4, layers: 2, ffn: 256, embedDim: 64, imageSize: 32, patch: 8, steps: 1200, batchSize: 128, lr: 2e-3, trainSamples: 10000, hardNegatives: 0.5 };
export const CLIP_COMMAND = 'npx crossflow data train-encoder clip --seed 0';

function textCfg(c: ClipConfig): TransformerConfig {
  return { dim: c.dim, heads: c.heads, layers: c.layers, ffn: c.ffn, positions: DEFAULT_MAX_TOKENS };
}
function imageCfg(c: ClipConfig): TransformerConfig {
  return { dim: c.dim, heads: c.heads, layers: c.layers, ffn: c.ffn, positions: (c.imageSize / c.patch) ** 2 };
}

function initClip(seed: number, c: ClipConfig, V: number): Weights {
  const pd = c.patch * c.patch * 3;
  return {
    ...initTransformer('clip.text.enc', textCfg(c), seed),
    ...initTransformer('clip.image.enc', imageCfg(c), seed),
    'clip.text.tok': normalWeights(`clip.text.tok:${seed}`, [V, c.dim], 1 / Math.sqrt(c.dim)),
    'clip.text.proj': normalWeights(`clip.text.proj:${seed}`, [c.dim, c.embedDim], 1 / Math.sqrt(c.dim)),
    'clip.image.patch.w': normalWeights(`clip.image.patch:${seed}`, [pd, c.dim], 1 / Math.sqrt(pd)),
    'clip.image.patch.b': tf.zeros([c.dim]),
    'clip.image.proj': normalWeights(`clip.image.proj:${seed}`, [c.dim, c.embedDim], 1 / Math.sqrt(c.dim)),
    'clip.logitScale': tf.scalar(Math.log(1 / 0.07)),
  };
}

/** Text tower token states: ids (B, n), mask (B, n) -> (B, n, d). */
function textStates(w: Weights, c: ClipConfig, ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
  const x = tf.mul(embed(ids, w['clip.text.tok']), Math.sqrt(c.dim)) as tf.Tensor3D;
  return runTransformer(w, 'clip.text.enc', textCfg(c), x, mask);
}

/** (B, n, d) -> (B, e), unit length. */
function textEmbedding(w: Weights, h: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  const e = dense(maskedMean(h, mask), w['clip.text.proj']) as tf.Tensor2D;
  return tf.div(e, tf.norm(e, 2, -1, true)) as tf.Tensor2D;
}

/** (N, S, S, 3) -> (N, (S/p)^2, p*p*3) patches in row-major order (rank-4 transposes only). */
function patchify(x: tf.Tensor4D, p: number): tf.Tensor3D {
  const [N, S] = x.shape as [number, number, number, number];
  const g = S / p;
  const rows = tf.reshape(x, [N * g, p, g, p * 3]); // (N*g, p rows, g patches, p*3)
  const t = tf.transpose(rows, [0, 2, 1, 3]); // (N*g, g, p, p*3)
  return tf.reshape(t, [N, g * g, p * p * 3]) as tf.Tensor3D;
}

/** Images (N, S, S, 3) in [0, 1] -> (N, e), unit length. */
function imageEmbedding(w: Weights, c: ClipConfig, images: tf.Tensor4D): tf.Tensor2D {
  const x = tf.div(tf.sub(images, 0.5), 0.25) as tf.Tensor4D;
  const tokens = dense(patchify(x, c.patch), w['clip.image.patch.w'], w['clip.image.patch.b']) as tf.Tensor3D; // (N, P, d)
  const h = runTransformer(w, 'clip.image.enc', imageCfg(c), tokens);
  const e = dense(tf.mean(h, 1), w['clip.image.proj']) as tf.Tensor2D;
  return tf.div(e, tf.norm(e, 2, -1, true)) as tf.Tensor2D;
}

/**
 * Symmetric InfoNCE over B images and B + K texts: texts 0..B-1 are the pairs' captions, texts
 * B..B+K-1 are hard negatives (a caption of a slightly changed scene). `exclude` (B, B+K) is 1
 * where a text also truly describes an image (an equal canonical caption): such entries are
 * removed from that image's negatives. Text -> image runs over the B positive texts only.
 */
function clipLoss(w: Weights, c: ClipConfig, images: tf.Tensor4D, ids: tf.Tensor2D, mask: tf.Tensor2D, exclude: tf.Tensor2D): tf.Scalar {
  const ie = imageEmbedding(w, c, images); // (B, e)
  const te = textEmbedding(w, textStates(w, c, ids, mask), mask); // (B+K, e)
  const B = images.shape[0];
  const T = ids.shape[0];
  const scale = tf.exp(tf.minimum(w['clip.logitScale'], Math.log(100)));
  const logits = tf.add(tf.mul(tf.matMul(ie, te, false, true), scale), tf.mul(exclude, -1e9)); // (B, B+K)
  const li = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.range(0, B, 1, 'int32'), T)), -1)));
  const square = tf.slice(logits, [0, 0], [B, B]); // (B, B): images x positive texts
  const lt = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(tf.transpose(square)), tf.oneHot(tf.range(0, B, 1, 'int32'), B)), -1)));
  return tf.div(tf.add(li, lt), 2) as tf.Scalar;
}

/**
 * A hard negative for a sample: the canonical caption of the same scene with one thing changed
 * that a bag-of-words model cannot see: a relation's two objects swapped, their colors swapped,
 * a count changed, or one object's color changed. Never names a held-out color-shape pair.
 */
export function hardNegative(s: ShapesSample, rng: Rng): string | null {
  const a = s.attributes;
  const o = a.objects;
  const options: string[] = [];
  const seen = (objs: ShapeObject[]) => objs.every((x) => !isHeldoutPair(x.color, x.shape));
  if (a.kind === 'relation' && a.captionRelation) {
    const r = a.captionRelation.relation;
    options.push(captionsOf('relation', [o[1], o[0]], s.width, r)[0]);
    if (o[0].color !== o[1].color) {
      const swapped = [{ ...o[0], color: o[1].color }, { ...o[1], color: o[0].color }];
      if (seen(swapped)) options.push(captionsOf('relation', swapped, s.width, r)[0]);
    }
  } else if (a.kind === 'count') {
    options.push(captionsOf('count', o.length === 2 ? [o[0], o[0], o[0]] : [o[0], o[0]], s.width)[0]);
    options.push(captionsOf('single', [o[0]], s.width)[0]);
  } else {
    options.push(captionsOf('count', [o[0], o[0]], s.width)[0]);
  }
  const recolored = { ...o[0], color: rng.pick(COLORS.filter((c) => c !== o[0].color)) };
  if (seen([recolored])) {
    const objs = [recolored, ...o.slice(1)];
    if (a.kind === 'count') options.push(captionsOf('count', objs.map(() => recolored), s.width)[0]);
    else options.push(captionsOf(a.kind, objs, s.width, a.captionRelation?.relation)[0]);
  }
  // A relation between two identical objects is not in the caption language.
  const valid = options.filter((t) => t !== s.caption && !/^an? (\w+ \w+) .* an? \1$/.test(t));
  return valid.length ? rng.pick(valid) : null;
}

function imagesOf(samples: readonly ShapesSample[], idx: number[]): Float32Array {
  const S = samples[0].width;
  const out = new Float32Array(idx.length * S * S * 3);
  idx.forEach((i, b) => {
    const rgb = samples[i].rgb;
    for (let k = 0; k < rgb.length; k++) out[b * rgb.length + k] = rgb[k] / 255;
  });
  return out;
}

export type ClipTrainResult = TrainedWeights;

export function trainClip(seed: number, c: ClipConfig = CLIP_DEFAULTS, log: (msg: string) => void = () => {}): ClipTrainResult {
  const tok = captionTokenizer();
  const samples = generateShapes({ split: 'train', count: c.trainSamples, seed, size: c.imageSize });
  const init = initClip(seed, c, tok.size);
  const vars: Record<string, tf.Variable> = {};
  for (const [k, t] of Object.entries(init)) {
    vars[k] = namedVariable(t, true, k);
    t.dispose();
  }
  const optimizer = tf.train.adam(c.lr, 0.9, 0.98, 1e-6);
  const rng = makeRng(`clip-train:${seed}`);
  const S = c.imageSize;
  const training = new TrainingLog('clip', c.steps, 100, log);
  for (let step = 0; step < c.steps; step++) {
    const B = c.batchSize;
    const idx = Array.from({ length: B }, () => rng.int(samples.length));
    // A random paraphrase per pair: the text tower learns the whole caption language.
    // Pairs with a hard negative use the canonical caption as the positive too, so that the
    // negative differs from its positive only in content, never in phrasing.
    const negatives: string[] = [];
    const captions = idx.map((i) => {
      const neg = c.hardNegatives && rng.next() < c.hardNegatives ? hardNegative(samples[i], rng) : null;
      if (!neg) return rng.pick(samples[i].captions);
      negatives.push(neg);
      return samples[i].caption;
    });
    const texts = [...captions, ...negatives];
    const T = texts.length;
    const canonicalOfText = [...idx.map((i) => samples[i].caption), ...negatives];
    const exclude = new Float32Array(B * T);
    for (let a = 0; a < B; a++) for (let t = 0; t < T; t++) if (a !== t && samples[idx[a]].caption === canonicalOfText[t]) exclude[a * T + t] = 1;
    const batch = tok.encode(texts);
    const warm = Math.max(1, Math.floor(c.steps * 0.05));
    (optimizer as unknown as { learningRate: number }).learningRate = step < warm ? (c.lr * (step + 1)) / warm : c.lr * 0.5 * (1 + Math.cos((Math.PI * (step - warm)) / (c.steps - warm)));
    const loss = tf.tidy(() => {
      const images = tf.tensor4d(imagesOf(samples, idx), [B, S, S, 3]);
      const ids = tf.tensor2d(batch.ids, [T, DEFAULT_MAX_TOKENS], 'int32');
      const mask = tf.tensor2d(batch.mask, [T, DEFAULT_MAX_TOKENS]);
      const excludeT = tf.tensor2d(exclude, [B, T]);
      return optimizer.minimize(() => clipLoss(vars, c, images, ids, mask, excludeT), true) as tf.Scalar;
    });
    training.record(step, loss);
  }
  optimizer.dispose();
  return training.finish(vars, countParams);
}

export interface Clip {
  /** The text tower as a frozen text encoder (token states). */
  text: TextEncoder;
  embedDim: number;
  imageSize: number;
  logitScale: number;
  paramCount: { text: number; image: number; total: number };
  manifest: EncoderManifest;
  /** Captions -> (B, e) unit vectors. */
  embedText(captions: string[]): tf.Tensor2D;
  /** Images (N, H, W, 3) in [0, 1] (any square size; resized to imageSize by area averaging) -> (N, e) unit vectors. */
  embedImages(images: tf.Tensor4D): tf.Tensor2D;
  /** Cosine similarities (N images) x (B captions) -> (N, B). */
  similarity(images: tf.Tensor4D, captions: string[]): tf.Tensor2D;
  dispose(): void;
}

export function loadClip(dir?: string): Clip {
  const { manifest, weights } = loadWeights('clip', dir);
  const c = manifest.config as unknown as ClipConfig;
  const tokenizer = new Tokenizer(manifest.vocabulary.slice(SPECIAL_TOKENS.length));
  const n = DEFAULT_MAX_TOKENS;
  const textParams = Object.entries(weights).filter(([k]) => k.startsWith('clip.text')).reduce((a, [, t]) => a + t.size, 0);
  const imageParams = Object.entries(weights).filter(([k]) => k.startsWith('clip.image')).reduce((a, [, t]) => a + t.size, 0);
  const resize = (images: tf.Tensor4D): tf.Tensor4D => {
    const [, H, W] = images.shape;
    if (H === c.imageSize && W === c.imageSize) return images;
    if (H !== W || H % c.imageSize !== 0) throw invalidValue('image size', `${H}x${W}`, `square, a multiple of ${c.imageSize}`);
    const f = H / c.imageSize;
    return tf.avgPool(images, f, f, 'valid') as tf.Tensor4D; // area averaging
  };
  const clip: Clip = {
    text: {
      name: 'clip',
      dim: c.dim,
      maxTokens: n,
      paramCount: textParams,
      tokenizer,
      provenance: provenanceOf(manifest),
      encode(captions, opts) {
        return tf.tidy(() => {
          const { ids, mask } = tokenTensors(tokenizer, captions, n, opts);
          const h = textStates(weights, c, ids, mask);
          return { tokens: tf.mul(h, tf.expandDims(mask, -1)) as tf.Tensor3D, mask };
        });
      },
      dispose() {
        clip.dispose();
      },
    },
    embedDim: c.embedDim,
    imageSize: c.imageSize,
    logitScale: Math.exp(Math.min(weights['clip.logitScale'].dataSync()[0], Math.log(100))),
    paramCount: { text: textParams, image: imageParams, total: textParams + imageParams + 1 },
    manifest,
    embedText(captions) {
      return tf.tidy(() => {
        const { ids, mask } = tokenTensors(tokenizer, captions, n);
        return textEmbedding(weights, textStates(weights, c, ids, mask), mask);
      });
    },
    embedImages(images) {
      return tf.tidy(() => {
        const out: tf.Tensor2D[] = [];
        const N = images.shape[0];
        for (let s = 0; s < N; s += 256) out.push(imageEmbedding(weights, c, resize(tf.slice(images, [s, 0, 0, 0], [Math.min(256, N - s), -1, -1, -1]) as tf.Tensor4D)));
        return tf.concat(out, 0) as tf.Tensor2D;
      });
    },
    similarity(images, captions) {
      return tf.tidy(() => tf.matMul(clip.embedImages(images), clip.embedText(captions), false, true) as tf.Tensor2D);
    },
    dispose() {
      Object.values(weights).forEach((t) => {
        if (!t.isDisposed) t.dispose();
      });
    },
  };
  return clip;
}

export interface RetrievalReport {
  split: string;
  count: number;
  /** Image -> text top-1: the best-scoring caption among the split's canonical captions is the image's own text. */
  imageToText: number;
  /** Text -> image top-1: the best-scoring image for a caption has that canonical caption. */
  textToImage: number;
  /** Image -> text top-1 per scene kind. */
  byKind: Record<string, number>;
}

/** Retrieval accuracy over `count` samples of a split, all candidates at once. */
export function clipRetrieval(clip: Pick<Clip, 'embedImages' | 'embedText'>, split: 'val' | 'test' | 'heldout', count: number, seed: number, size = 32): RetrievalReport {
  const samples = generateShapes({ split, count, seed, size });
  const texts = [...new Set(samples.map((s) => s.caption))];
  const textIndex = new Map(texts.map((t, i) => [t, i]));
  const { i2t, t2i } = tf.tidy(() => {
    const images = tf.tensor4d(imagesOf(samples, samples.map((_s, i) => i)), [count, size, size, 3]);
    const sim = tf.matMul(clip.embedImages(images), clip.embedText(texts), false, true); // (N, T)
    return { i2t: tf.argMax(sim, 1).dataSync() as Int32Array, t2i: tf.argMax(sim, 0).dataSync() as Int32Array };
  });
  let hitsI = 0;
  const kindHits: Record<string, [number, number]> = {};
  samples.forEach((s, i) => {
    const ok = i2t[i] === textIndex.get(s.caption) ? 1 : 0;
    hitsI += ok;
    const k = (kindHits[s.attributes.kind] ??= [0, 0]);
    k[0] += ok;
    k[1]++;
  });
  let hitsT = 0;
  texts.forEach((t, j) => {
    if (samples[t2i[j]].caption === t) hitsT++;
  });
  const byKind: Record<string, number> = {};
  for (const [k, [h, nk]] of Object.entries(kindHits)) byKind[k] = Math.round((h / nk) * 1e4) / 1e4;
  return { split, count, imageToText: Math.round((hitsI / count) * 1e4) / 1e4, textToImage: Math.round((hitsT / texts.length) * 1e4) / 1e4, byKind };
}

export async function trainAndSaveClip(seed = 0, overrides: Partial<ClipConfig> = {}, log: (msg: string) => void = () => {}, dir?: string): Promise<EncoderManifest> {
  const backend = await initBackend();
  const c = { ...CLIP_DEFAULTS, ...overrides };
  const r = measureTraining(() => trainClip(seed, c, log));
  const view = { embedImages: (x: tf.Tensor4D) => imageEmbedding(r.weights, c, x), embedText: (caps: string[]) => tf.tidy(() => {
    const { ids, mask } = tokenTensors(captionTokenizer(), caps, DEFAULT_MAX_TOKENS);
    return textEmbedding(r.weights, textStates(r.weights, c, ids, mask), mask);
  }) };
  const test = clipRetrieval(view, 'test', 512, 0, c.imageSize);
  const held = clipRetrieval(view, 'heldout', 512, 0, c.imageSize);
  log(`clip retrieval test ${JSON.stringify(test)} heldout ${JSON.stringify(held)}`);
  const metrics: Record<string, number> = {
    testImageToTextTop1: test.imageToText,
    testTextToImageTop1: test.textToImage,
    heldoutImageToTextTop1: held.imageToText,
    heldoutTextToImageTop1: held.textToImage,
  };
  for (const [k, v] of Object.entries(test.byKind)) metrics[`testImageToTextTop1_${k}`] = v;
  return saveTrainedEncoder(
    { name: 'clip', command: CLIP_COMMAND, overrides, seed, config: c, run: r, backend: backend.backend, vocabulary: captionTokenizer().words, metrics },
    dir,
  );
}
