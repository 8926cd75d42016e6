// Separable image resampling with antialiasing (the PIL / torchvision `antialias=True` scheme):
// every output pixel is a normalized weighted sum of input pixels under a kernel stretched by the
// scale factor when shrinking, so downsampling averages instead of aliasing. Pixel centers sit at
// half-integers (align_corners = false). Images are (H, W, C) Float32Arrays.
import { invalidValue } from '../../errors';

export const KERNELS = ['box', 'bilinear', 'bicubic'] as const;
export type Kernel = (typeof KERNELS)[number];

export interface Image {
  data: Float32Array; // (H, W, C)
  height: number;
  width: number;
  channels: number;
}

/** Keys' cubic convolution kernel with a = -0.5 (reproduces polynomials up to degree 2). */
function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

const KERNEL_FN: Record<Kernel, { support: number; fn: (x: number) => number }> = {
  box: { support: 0.5, fn: (x) => (x >= -0.5 && x < 0.5 ? 1 : 0) },
  bilinear: { support: 1, fn: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: { support: 2, fn: cubic },
};

interface AxisWeights {
  start: Int32Array; // (out) first input index
  count: Int32Array; // (out) taps
  weights: Float64Array[]; // (out)[taps], normalized to sum 1
}

function axisWeights(inSize: number, outSize: number, kernel: Kernel, antialias: boolean): AxisWeights {
  const { support, fn } = KERNEL_FN[kernel];
  const scale = inSize / outSize;
  const filterScale = antialias ? Math.max(scale, 1) : 1;
  const reach = support * filterScale;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - reach + 0.5));
    const hi = Math.min(inSize, Math.floor(center + reach + 0.5));
    const w = new Float64Array(Math.max(0, hi - lo));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      w[j - lo] = fn((j + 0.5 - center) / filterScale);
      sum += w[j - lo];
    }
    // Taps that fall outside the image are dropped and the rest renormalized (PIL's edge rule).
    if (sum !== 0) for (let k = 0; k < w.length; k++) w[k] /= sum;
    start[i] = lo;
    count[i] = w.length;
    weights.push(w);
  }
  return { start, count, weights };
}

/** Resizes an (H, W, C) image to (outH, outW, C). */
export function resize(img: Image, outHeight: number, outWidth: number, kernel: Kernel = 'bicubic', antialias = true): Image {
  if (!(KERNELS as readonly string[]).includes(kernel)) throw invalidValue('kernel', kernel, KERNELS.join(', '));
  const { data, height: H, width: W, channels: C } = img;
  if (data.length !== H * W * C) throw invalidValue('image data length', data.length, `H*W*C = ${H * W * C}`);
  // Horizontal pass: (H, W, C) -> (H, outW, C).
  const ax = axisWeights(W, outWidth, kernel, antialias);
  const mid = new Float32Array(H * outWidth * C);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < outWidth; x++) {
      const w = ax.weights[x];
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k] * data[(y * W + ax.start[x] + k) * C + c];
        mid[(y * outWidth + x) * C + c] = acc;
      }
    }
  // Vertical pass: (H, outW, C) -> (outH, outW, C).
  const ay = axisWeights(H, outHeight, kernel, antialias);
  const out = new Float32Array(outHeight * outWidth * C);
  for (let y = 0; y < outHeight; y++) {
    const w = ay.weights[y];
    for (let x = 0; x < outWidth; x++)
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k] * mid[((ay.start[y] + k) * outWidth + x) * C + c];
        out[(y * outWidth + x) * C + c] = acc;
      }
  }
  return { data: out, height: outHeight, width: outWidth, channels: C };
}

/** Antialiased downsampling by an integer factor; the default `box` kernel is the exact block average. */
export function downsample(img: Image, factor: number, kernel: Kernel = 'box'): Image {
  if (!Number.isInteger(factor) || factor < 1 || img.height % factor !== 0 || img.width % factor !== 0)
    throw invalidValue('downsample factor', factor, `a positive integer dividing ${img.height}x${img.width}`);
  return resize(img, img.height / factor, img.width / factor, kernel, true);
}

/** Bicubic upsampling (Keys a = -0.5), e.g. a low-res image back to full size as a flow's source. */
export function upsampleBicubic(img: Image, outHeight: number, outWidth: number): Image {
  return resize(img, outHeight, outWidth, 'bicubic', false);
}

export function clampImage(img: Image, lo = 0, hi = 1): Image {
  const data = img.data.map((v) => Math.min(hi, Math.max(lo, v)));
  return { ...img, data };
}
