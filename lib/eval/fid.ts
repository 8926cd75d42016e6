// Frechet distance between two Gaussians fitted to feature sets (FID when the features come from
// a judge network): ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)).
// The trace of the matrix square root is computed through ml-matrix's symmetric eigensolver:
// with A = S1^(1/2) (symmetric PSD), S1 S2 is similar to A S2 A, which is symmetric PSD, so
// tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(A S2 A)). Tiny negative eigenvalues from round-off
// are clamped to 0 (they would be NaN under the square root). This is the same quantity
// pytorch-fid gets from scipy.linalg.sqrtm, without the complex-number detour.
import { Matrix, EigenvalueDecomposition } from 'ml-matrix';
import { CrossflowError } from '../errors';

export interface GaussianStats {
  mu: Float64Array; // (D,)
  sigma: Matrix; // (D, D), unbiased (N - 1) covariance, as numpy.cov
  n: number;
}

/** Mean and unbiased covariance of N feature rows of width D (row-major, length N*D). */
export function gaussianStats(features: ArrayLike<number>, n: number, d: number): GaussianStats {
  if (features.length !== n * d) throw new CrossflowError(`gaussianStats: ${features.length} values is not ${n} x ${d}`);
  if (n < 2) throw new CrossflowError('gaussianStats: need at least 2 samples for a covariance');
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += features[i * d + j];
  for (let j = 0; j < d; j++) mu[j] /= n;
  const centred = new Matrix(n, d); // (N, D)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred.set(i, j, features[i * d + j] - mu[j]);
  const sigma = centred.transpose().mmul(centred).div(n - 1); // (D, N) x (N, D) -> (D, D)
  return { mu, sigma, n };
}

/** Symmetric square root of a symmetric PSD matrix via its eigendecomposition (negatives clamped). */
export function sqrtmPsd(m: Matrix): Matrix {
  const sym = m.add(m.transpose()).div(2);
  const eig = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const V = eig.eigenvectorMatrix; // (D, D)
  const sqrtL = eig.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0)));
  const VL = V.clone();
  for (let i = 0; i < VL.rows; i++) for (let j = 0; j < VL.columns; j++) VL.set(i, j, V.get(i, j) * sqrtL[j]);
  return VL.mmul(V.transpose());
}

/** tr((S1 S2)^(1/2)) for symmetric PSD S1, S2. */
export function traceSqrtProduct(s1: Matrix, s2: Matrix): number {
  const a = sqrtmPsd(s1);
  const m = a.mmul(s2).mmul(a);
  const eig = new EigenvalueDecomposition(m.add(m.transpose()).div(2), { assumeSymmetric: true });
  return eig.realEigenvalues.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
}

/** Frechet distance between two Gaussians. */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.mu.length !== b.mu.length) throw new CrossflowError(`frechetDistance: feature widths ${a.mu.length} and ${b.mu.length} differ`);
  let meanTerm = 0;
  for (let j = 0; j < a.mu.length; j++) meanTerm += (a.mu[j] - b.mu[j]) ** 2;
  const fd = meanTerm + a.sigma.trace() + b.sigma.trace() - 2 * traceSqrtProduct(a.sigma, b.sigma);
  // Round-off can leave -1e-12 for identical sets; a distance is never negative.
  return Math.max(fd, 0);
}

/** FID between two feature sets given as row-major (N, D) arrays. */
export function fidFromFeatures(x: ArrayLike<number>, nx: number, y: ArrayLike<number>, ny: number, d: number): number {
  return frechetDistance(gaussianStats(x, nx, d), gaussianStats(y, ny, d));
}

/** The metric's name with its sample count, e.g. FID-1K for 1000, FID-5K, FID-500 below 1000. */
export function fidName(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `FID-${n / 1000}K` : `FID-${n}`;
}
