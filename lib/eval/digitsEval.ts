// Evaluation of generated MNIST / Fashion-MNIST images: FID on the classifier judge's features
// against the real test split, and the judge's accuracy at reading the prompted class.
import { classCaptions, MnistDataset } from '../data/mnist';
import { loadJudge, judgeDigits, digitTestSplit, DIGIT_FEATURE_DIM } from './judges/index';
import { gaussianStats, frechetDistance, fidName, GaussianStats } from './fid';
import { CrossflowError } from '../errors';

export interface GrayImage {
  pixels: ArrayLike<number>; // (H, W) in [0, 1]
  width: number;
  height: number;
}

/** The class a caption names (any of the dataset's caption templates), or -1. */
export function labelOfCaption(dataset: MnistDataset, caption: string): number {
  const c = caption.trim().toLowerCase();
  for (let label = 0; label < 10; label++) if (classCaptions(dataset, label).includes(c)) return label;
  return -1;
}

const statsCache = new Map<string, GaussianStats>();

export async function realDigitStats(dataset: MnistDataset): Promise<GaussianStats> {
  const hit = statsCache.get(dataset);
  if (hit) return hit;
  const { model } = await loadJudge(dataset);
  const test = digitTestSplit(dataset);
  const { features } = await judgeDigits(model, test);
  const s = gaussianStats(features, test.length, DIGIT_FEATURE_DIM);
  statsCache.set(dataset, s);
  return s;
}

export async function evaluateDigitImages(dataset: MnistDataset, images: GrayImage[], captions: string[]) {
  if (images.length < 2) throw new CrossflowError('evaluating digits needs at least 2 images');
  const { model } = await loadJudge(dataset);
  const { labels, features } = await judgeDigits(model, images);
  const ref = await realDigitStats(dataset);
  const fid = frechetDistance(gaussianStats(features, images.length, DIGIT_FEATURE_DIM), ref);
  let right = 0, known = 0;
  captions.forEach((c, i) => {
    const l = labelOfCaption(dataset, c);
    if (l < 0) return;
    known++;
    if (labels[i] === l) right++;
  });
  return { fid, fid_n: images.length, fid_name: fidName(images.length), fid_reference_n: ref.n, class_accuracy: known ? right / known : null, labelled: known };
}

/** RGB bytes -> grayscale [0, 1] (the mean of the channels). */
export function rgbToGray(im: { rgb: ArrayLike<number>; width: number; height: number }): GrayImage {
  const pixels = new Float32Array(im.width * im.height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (im.rgb[i * 3] + im.rgb[i * 3 + 1] + im.rgb[i * 3 + 2]) / (3 * 255);
  return { pixels, width: im.width, height: im.height };
}
