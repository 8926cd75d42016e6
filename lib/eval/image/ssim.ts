// Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004) with the paper's settings:
// an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, C = (K L)^2 with L the data
// range; local statistics are computed only where the window fits inside the image ("valid",
// as the authors' ssim.m and scikit-image's cropped mean); colour images: the mean over channels.
// `sampleCovariance` multiplies variances by NP/(NP-1) (NP = 121) as scikit-image's
// structural_similarity does by default (use_sample_covariance=True); the paper's value is false.
import { CrossflowError } from '../../errors';

export interface SsimOptions {
  dataRange?: number; // 255
  windowSize?: number; // 11
  sigma?: number; // 1.5
  k1?: number; // 0.01
  k2?: number; // 0.03
  sampleCovariance?: boolean; // false
}

/** Normalised 1-D Gaussian of `size` taps (the 2-D window is its outer product). */
export function gaussianWindow(size: number, sigma: number): Float64Array {
  const w = new Float64Array(size);
  const r = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) s += (w[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  for (let i = 0; i < size; i++) w[i] /= s;
  return w;
}

/** Valid separable filtering of one (H, W) plane with a 1-D kernel along both axes -> (H-k+1, W-k+1). */
function filterValid(x: Float64Array, h: number, w: number, k: Float64Array): Float64Array {
  const n = k.length;
  const oh = h - n + 1;
  const ow = w - n + 1;
  const rows = new Float64Array(h * ow); // filtered along x
  for (let y = 0; y < h; y++) {
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t] * x[y * w + xo + t];
      rows[y * ow + xo] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let yo = 0; yo < oh; yo++) {
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t] * rows[(yo + t) * ow + xo];
      out[yo * ow + xo] = s;
    }
  }
  return out;
}

/** Mean SSIM of two single-channel (H, W) images. */
export function ssimPlane(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, options: SsimOptions = {}): number {
  const L = options.dataRange ?? 255;
  const size = options.windowSize ?? 11;
  const k = gaussianWindow(size, options.sigma ?? 1.5);
  if (h < size || w < size) throw new CrossflowError(`ssim: image ${h}x${w} is smaller than the ${size}x${size} window`);
  const c1 = ((options.k1 ?? 0.01) * L) ** 2;
  const c2 = ((options.k2 ?? 0.03) * L) ** 2;
  const np = size * size;
  const covNorm = options.sampleCovariance ? np / (np - 1) : 1;
  const A = Float64Array.from(a as ArrayLike<number>);
  const B = Float64Array.from(b as ArrayLike<number>);
  const AA = A.map((v) => v * v);
  const BB = B.map((v) => v * v);
  const AB = A.map((v, i) => v * B[i]);
  const [ua, ub, uaa, ubb, uab] = [A, B, AA, BB, AB].map((p) => filterValid(p, h, w, k));
  let total = 0;
  for (let i = 0; i < ua.length; i++) {
    const va = covNorm * (uaa[i] - ua[i] * ua[i]);
    const vb = covNorm * (ubb[i] - ub[i] * ub[i]);
    const vab = covNorm * (uab[i] - ua[i] * ub[i]);
    total += ((2 * ua[i] * ub[i] + c1) * (2 * vab + c2)) / ((ua[i] ** 2 + ub[i] ** 2 + c1) * (va + vb + c2));
  }
  return total / ua.length;
}

/** Mean SSIM of two (H, W, C) interleaved images: the mean of the per-channel SSIMs. */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, channels: number, options: SsimOptions = {}): number {
  if (a.length !== h * w * channels || b.length !== h * w * channels) {
    throw new CrossflowError(`ssim: expected ${h}x${w}x${channels} values, got ${a.length} and ${b.length}`);
  }
  let sum = 0;
  for (let c = 0; c < channels; c++) {
    const pa = new Float64Array(h * w);
    const pb = new Float64Array(h * w);
    for (let i = 0; i < h * w; i++) {
      pa[i] = a[i * channels + c];
      pb[i] = b[i * channels + c];
    }
    sum += ssimPlane(pa, pb, h, w, options);
  }
  return sum / channels;
}
