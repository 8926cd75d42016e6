// Classifier-free guidance with an indicator (CrossFlow section 5). CrossFlow has no condition to drop,
// so a binary indicator 1_c tells the model what to do: 1 = flow z0 to its own image, 0 = flow z0 to
// *some other* image. As in the official code, about p_uncond of each batch is marked unconditional
// and the image targets of the marked items are rotated by one inside that subset (torch.roll by 1:
// the j-th marked item takes the image of the (j-1)-th); each keeps its own z0. With fewer than two
// marked items there is nothing to rotate and the whole batch stays conditional.

export interface IndicatorBatch {
  /** (B,) 1 = conditional, 0 = unconditional. */
  indicator: Int32Array;
  /** (B,) index of the batch item whose image latent is item i's target. */
  targetIndex: Int32Array;
  unconditional: number;
}

/** Marks items unconditional where uniforms[i] < pUncond, then rotates their targets by one. */
export function indicatorBatch(uniforms: ArrayLike<number>, pUncond: number): IndicatorBatch {
  const B = uniforms.length;
  const indicator = new Int32Array(B).fill(1);
  const targetIndex = new Int32Array(B);
  for (let i = 0; i < B; i++) targetIndex[i] = i;
  const marked: number[] = [];
  for (let i = 0; i < B; i++) if (uniforms[i] < pUncond) marked.push(i);
  if (marked.length < 2) return { indicator, targetIndex, unconditional: 0 };
  const k = marked.length;
  for (let j = 0; j < k; j++) {
    indicator[marked[j]] = 0;
    targetIndex[marked[j]] = marked[(j - 1 + k) % k];
  }
  return { indicator, targetIndex, unconditional: k };
}
