// Names of the fused kernels a backend may register (today: `native`, from lib/backend/native/fused.ts).
// The layers in lib/nn/fused.ts use them where the active backend has them and compose tf ops elsewhere.
export const FUSED = {
  /** inputs {x (B, T, D), shift (B, D), scale (B, D)}, attrs {eps}: [y, xhat (B, T, D), rstd (B, T)] */
  adaLN: 'CrossflowAdaLN',
  /** inputs {dy, xhat, rstd, scale}: [dx, dshift, dscale] */
  adaLNGrad: 'CrossflowAdaLNGrad',
  /** inputs {x (B, T, D), gate (B, D), h (B, T, D)}: x + gate h */
  gatedResidual: 'CrossflowGatedResidual',
  /** inputs {dy, gate, h}: [dh, dgate] (dx is dy) */
  gatedResidualGrad: 'CrossflowGatedResidualGrad',
  /** inputs {x}: y, GELU (tanh form) */
  gelu: 'CrossflowGelu',
  /** inputs {x, dy}: dx */
  geluGrad: 'CrossflowGeluGrad',
  /** inputs {qkv (B, T, 3D), mask? (B, T) 1 = attend}, attrs {heads}: [out (B, T, D), probs (B, heads, T, T)] */
  attention: 'CrossflowAttention',
  /** inputs {qkv, probs, dy}, attrs {heads}: dqkv (B, T, 3D) */
  attentionGrad: 'CrossflowAttentionGrad',
} as const;
