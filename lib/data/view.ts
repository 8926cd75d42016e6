// Converts dataset samples to the RGB images the display helpers draw (lib/display/imageGrid).
import type { RgbImage } from '../display/imageGrid';

/** (H, W, 3) bytes -> RgbImage. */
export function rgbImage(s: { rgb: Uint8ClampedArray; width: number; height: number }): RgbImage {
  return { width: s.width, height: s.height, data: s.rgb };
}

/** (H, W) grayscale floats in [0, 1] -> RgbImage. */
export function grayImage(pixels: Float32Array, width: number, height: number): RgbImage {
  const data = new Uint8ClampedArray(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const v = Math.round(Math.min(1, Math.max(0, pixels[p])) * 255);
    data[p * 3] = v;
    data[p * 3 + 1] = v;
    data[p * 3 + 2] = v;
  }
  return { width, height, data };
}

/** Nearest-neighbour upscaling of a grayscale image by an integer factor (to show a low-res image at full size). */
export function upscaleNearest(pixels: Float32Array, width: number, height: number, factor: number): Float32Array {
  const out = new Float32Array(width * factor * height * factor);
  for (let y = 0; y < height * factor; y++)
    for (let x = 0; x < width * factor; x++) out[y * width * factor + x] = pixels[Math.floor(y / factor) * width + Math.floor(x / factor)];
  return out;
}
