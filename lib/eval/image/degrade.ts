// Controlled degradations of RGB images for the FID sanity ladder: Gaussian blur and noise.
import { gaussianWindow } from './ssim';
import { makeRng } from '../../data/rng';

export interface RgbImage {
  rgb: Uint8ClampedArray;
  width: number;
  height: number;
}

/** Separable Gaussian blur (radius 3 sigma, edges clamped). */
export function gaussianBlur(im: RgbImage, sigma: number): RgbImage {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = gaussianWindow(2 * r + 1, sigma);
  const { width: W, height: H } = im;
  const tmp = new Float32Array(W * H * 3);
  const out = new Uint8ClampedArray(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let t = -r; t <= r; t++) s += k[t + r] * im.rgb[(y * W + Math.min(W - 1, Math.max(0, x + t))) * 3 + c];
    tmp[(y * W + x) * 3 + c] = s;
  }
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let t = -r; t <= r; t++) s += k[t + r] * tmp[(Math.min(H - 1, Math.max(0, y + t)) * W + x) * 3 + c];
    out[(y * W + x) * 3 + c] = Math.round(s);
  }
  return { rgb: out, width: W, height: H };
}

/** Adds N(0, std^2) noise (std in 0..255 units), seeded. */
export function addNoise(im: RgbImage, std: number, seed: string): RgbImage {
  const rng = makeRng(seed);
  const out = new Uint8ClampedArray(im.rgb.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(im.rgb[i] + std * rng.normal());
  return { rgb: out, width: im.width, height: im.height };
}

/** Uniform random pixels: the bottom rung of the ladder. */
export function noiseImage(width: number, height: number, seed: string): RgbImage {
  const rng = makeRng(seed);
  const out = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rng.next() * 256);
  return { rgb: out, width, height };
}
