// Peak signal-to-noise ratio: 10 log10(MAX^2 / MSE) over all pixels and channels.
import { CrossflowError } from '../../errors';

/** PSNR in dB between two images of equal size; `dataRange` is MAX (255 for uint8, 1 for [0,1]). */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, dataRange = 255): number {
  if (a.length !== b.length) throw new CrossflowError(`psnr: image sizes ${a.length} and ${b.length} differ`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / mse);
}
