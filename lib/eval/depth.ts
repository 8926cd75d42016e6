// Monocular depth metrics (Eigen et al. 2014 conventions): over pixels with valid ground truth
// (gt > 0 and finite), AbsRel = mean |p - g| / g, RMSE = sqrt(mean (p - g)^2), and
// delta_k = fraction with max(p/g, g/p) < 1.25^k for k = 1, 2, 3.
import { CrossflowError } from '../errors';

export interface DepthMetrics {
  absrel: number;
  rmse: number;
  delta1: number;
  delta2: number;
  delta3: number;
  validPixels: number;
}

export function depthMetrics(pred: ArrayLike<number>, gt: ArrayLike<number>): DepthMetrics {
  if (pred.length !== gt.length) throw new CrossflowError(`depthMetrics: prediction has ${pred.length} values, ground truth ${gt.length}`);
  let n = 0, absrel = 0, se = 0;
  const within = [0, 0, 0];
  for (let i = 0; i < gt.length; i++) {
    const g = gt[i];
    if (!(g > 0) || !Number.isFinite(g)) continue;
    // A non-positive prediction has an infinite ratio: it fails every delta threshold.
    const p = pred[i];
    n++;
    absrel += Math.abs(p - g) / g;
    se += (p - g) ** 2;
    const ratio = p > 0 ? Math.max(p / g, g / p) : Infinity;
    for (let k = 0; k < 3; k++) if (ratio < Math.pow(1.25, k + 1)) within[k]++;
  }
  if (n === 0) throw new CrossflowError('depthMetrics: no pixel with valid (positive) ground truth');
  return { absrel: absrel / n, rmse: Math.sqrt(se / n), delta1: within[0] / n, delta2: within[1] / n, delta3: within[2] / n, validPixels: n };
}
