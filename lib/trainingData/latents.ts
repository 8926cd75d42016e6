// Training data for text-to-image flows: Shapes images, their paraphrase captions, and their image
// latents from the dataset's autoencoder. The autoencoder is trained once per (dataset, config, seed)
// and cached under datasets/autoencoders/; latents are cached under datasets/latents/. Both caches are
// re-created by `npx crossflow train-autoencoder` (or on first use by `crossflow train`).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { generateShapes, KIND_WEIGHTS, shapesToTensor, ShapesSample } from '../data/shapes/index';
import type { SceneKind } from '../data/shapes/captions';
import { makeRng, normals } from '../data/rng';
import { Autoencoder, AutoencoderConfig, autoencoder } from '../models/autoencoder';
import { ParamStore } from '../nn/params';
import { AdamW } from '../optim/adamw';
import { yieldToEventLoop } from '../eventLoop';
import { assignFrom, readCheckpoint, writeCheckpoint } from '../nn/checkpoint';
import { repoPath } from '../paths';

export const DATASETS_DIR = repoPath('datasets');

export interface AutoencoderSettings {
  kind: 'patch' | 'conv';
  channels: number;
  latentChannels: number;
  steps: number;
  batchSize: number;
  lr: number;
  klWeight: number;
}

export interface AutoencoderMeta {
  dataset: string;
  imageSize: number;
  settings: AutoencoderSettings;
  seed: number;
  trainCount: number;
  /** Multiply posterior means by this to get unit-std latents. */
  scale: number;
  testPsnr: number;
  testCount: number;
  trainSeconds: number;
  command: string;
}

export interface TrainedAutoencoder {
  ae: Autoencoder;
  meta: AutoencoderMeta;
  file: string;
}

function hashOf(x: unknown): string {
  return crypto.createHash('sha1').update(JSON.stringify(x)).digest('hex').slice(0, 10);
}

export function autoencoderCommand(s: AutoencoderSettings, seed: number): string {
  return `npx crossflow train-autoencoder --dataset shapes --kind ${s.kind} --seed ${seed} --steps ${s.steps} --channels ${s.channels} --batch ${s.batchSize}`;
}

/** The autoencoder's training images: a fixed number of Shapes train samples. */
export const AE_TRAIN_COUNT = 8000;
export const AE_TEST_COUNT = 500;

export function autoencoderFile(s: AutoencoderSettings, seed: number, imageSize: number): string {
  return path.join(DATASETS_DIR, 'autoencoders', `shapes${imageSize}-${hashOf({ s, seed, imageSize, n: AE_TRAIN_COUNT })}.ckpt`);
}

function aeConfig(s: AutoencoderSettings, imageSize: number): AutoencoderConfig {
  return { kind: s.kind, imageSize, latentChannels: s.latentChannels, channels: s.channels, klWeight: s.klWeight };
}

/** Loads the cached autoencoder or trains and caches it. */
export async function loadOrTrainAutoencoder(
  s: AutoencoderSettings, seed: number, imageSize: number,
  log: (msg: string) => void = () => {}, onStep?: (step: number, total: number, loss: number) => void,
): Promise<TrainedAutoencoder> {
  const file = autoencoderFile(s, seed, imageSize);
  const params = new ParamStore(seed + 7919);
  const ae = autoencoder(aeConfig(s, imageSize), params, 'ae');
  if (fs.existsSync(file)) {
    const ck = readCheckpoint<AutoencoderMeta>(file);
    assignFrom(ck, [...params.vars], file);
    return { ae, meta: ck.meta, file };
  }
  const t0 = Date.now();
  log(`training the Shapes autoencoder (${params.count()} params, ${s.steps} steps; cached at ${path.relative(process.cwd(), file)})`);
  const train = shapesToTensor(generateShapes({ split: 'train', count: AE_TRAIN_COUNT, seed: 1000 + seed, size: imageSize }));
  const opt = new AdamW({ lr: s.lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const vars = params.list();
  const L = imageSize / 4;
  for (let step = 0; step < s.steps; step++) {
    const rng = makeRng(`ae:${seed}:${step}`);
    const idx = Int32Array.from({ length: s.batchSize }, () => rng.int(AE_TRAIN_COUNT));
    const eps = normals(`ae-eps:${seed}:${step}`, s.batchSize * L * L * s.latentChannels);
    // Cosine decay to 10% over the run: the AE gets one short schedule.
    const lr = s.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * step) / s.steps)));
    const loss = tf.tidy(() => {
      const x = tf.gather(train, idx) as tf.Tensor4D;
      const e = tf.tensor4d(eps, [s.batchSize, L, L, s.latentChannels]);
      const { value, grads } = tf.variableGrads(() => ae.loss(x, e).total, vars);
      opt.apply(vars, grads, lr);
      return value;
    });
    const l = loss.dataSync()[0];
    loss.dispose();
    onStep?.(step + 1, s.steps, l);
    await yieldToEventLoop();
  }
  opt.dispose();
  train.dispose();
  // Scale: 1 / std of the posterior means over training images, as SD's scale factor.
  const scale = tf.tidy(() => {
    const sample = shapesToTensor(generateShapes({ split: 'train', count: 1000, seed: 1000 + seed, size: imageSize }));
    const mu = ae.encode(sample).mu;
    return 1 / Math.sqrt(tf.moments(mu).variance.dataSync()[0]);
  });
  const test = generateShapes({ split: 'test', count: AE_TEST_COUNT, seed: 0, size: imageSize });
  const testPsnr = reconstructionPsnr(ae, test);
  const meta: AutoencoderMeta = {
    dataset: 'shapes', imageSize, settings: s, seed, trainCount: AE_TRAIN_COUNT, scale, testPsnr, testCount: AE_TEST_COUNT,
    trainSeconds: (Date.now() - t0) / 1000, command: autoencoderCommand(s, seed),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeCheckpoint(file, meta, [...params.vars]);
  log(`autoencoder: test PSNR ${testPsnr.toFixed(2)} dB on ${AE_TEST_COUNT} test images, latent scale ${scale.toFixed(4)}, ${meta.trainSeconds.toFixed(0)} s`);
  return { ae, meta, file };
}

/** Per-image PSNR in dB for images in [0, 1]: (B, H, W, 3) x 2 -> B numbers. */
export function psnrOf(a: tf.Tensor4D, b: tf.Tensor4D): number[] {
  const mse = tf.tidy(() => a.sub(b).square().mean([1, 2, 3]).dataSync());
  return Array.from(mse, (m) => 10 * Math.log10(1 / Math.max(m, 1e-10)));
}

/** Mean PSNR (dB, images in [0, 1]) of encode(mean) -> decode over samples. */
export function reconstructionPsnr(ae: Autoencoder, samples: ShapesSample[], batch = 250): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    sum += tf.tidy(() => {
      const x = shapesToTensor(chunk);
      const y = ae.decode(ae.encode(x).mu).clipByValue(0, 1) as tf.Tensor4D;
      return psnrOf(x, y).reduce((a, b) => a + b, 0);
    });
  }
  return sum / samples.length;
}

export interface TextImageData {
  /** (N, L, L, C) scaled latents. */
  latents: Float32Array;
  captions: string[][];
  count: number;
  latentSize: number;
  latentChannels: number;
}

/** Train-split Shapes samples with captions, and their scaled latents (cached). */
export function loadTrainingData(trained: TrainedAutoencoder, count: number, seed: number, kindWeights: Record<SceneKind, number> = KIND_WEIGHTS): TextImageData {
  const { ae, meta } = trained;
  const L = meta.imageSize / 4;
  const C = meta.settings.latentChannels;
  const samples = generateShapes({ split: 'train', count, seed, size: meta.imageSize, kindWeights });
  // The default mix keeps the cache names of earlier runs; another mix gets its own file.
  const mixTag = JSON.stringify(kindWeights) === JSON.stringify(KIND_WEIGHTS) ? '' : `-mix${hashOf(kindWeights)}`;
  const file = path.join(DATASETS_DIR, 'latents', `${path.basename(trained.file, '.ckpt')}-n${count}-s${seed}${mixTag}.f32`);
  let latents: Float32Array;
  if (fs.existsSync(file)) {
    const b = fs.readFileSync(file);
    latents = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  } else {
    latents = new Float32Array(count * L * L * C);
    for (let i = 0; i < count; i += 500) {
      const chunk = samples.slice(i, i + 500);
      const mu = tf.tidy(() => ae.encode(shapesToTensor(chunk)).mu.mul(meta.scale) as tf.Tensor4D);
      latents.set(mu.dataSync() as Float32Array, i * L * L * C);
      mu.dispose();
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // A per-process temporary name: two runs that build the same cache at once must not share one.
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, Buffer.from(latents.buffer));
    fs.renameSync(tmp, file);
  }
  return { latents, captions: samples.map((s) => s.captions), count, latentSize: L, latentChannels: C };
}
