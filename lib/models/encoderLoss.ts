// The Text VE's auxiliary loss L_enc (CrossFlow Table 3b), each with the small module it trains:
//   'tt-recon'    : a decoder maps z0 back to the text embedding x (B, n, d); MSE over real tokens.
//   'tt-contrast' : CLIP-style InfoNCE between z0 and a small encoder of x (masked mean -> MLP).
//   'it-contrast' : CLIP-style InfoNCE between z0 and an image encoder's embedding of the paired
//                   image latent z1 (the final choice; the image encoder trains jointly).
// As in the official code the contrastive losses use the flattened *sampled* z0, L2-normalised, and a
// raw learnable logit scale initialised to ln(1/0.07). These modules only shape the VE during training;
// sampling never runs them.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';
import { Linear, gelu, linear } from '../nn/layers';
import { ParamStore } from '../nn/params';
import { contrastiveLoss } from './veLosses';

export const ENC_LOSSES = ['none', 'tt-recon', 'tt-contrast', 'it-contrast'] as const;
export type EncLossKind = (typeof ENC_LOSSES)[number];

export interface EncLossConfig {
  kind: EncLossKind;
  weight: number;
  /** Hidden width of the auxiliary MLPs. */
  hidden: number;
  /**
   * Initial value of the contrastive losses' learnable raw logit scale (official code: ln(1/0.07) ~ 2.66,
   * which over a few thousand steps only grows to ~6.4: soft logits).
   */
  logitScale: number;
}

export interface EncLossInputs {
  z0: tf.Tensor4D; // (B, L, L, C) sampled VE latent
  tokens: tf.Tensor3D; // (B, n, d) frozen text embedding
  mask: tf.Tensor2D; // (B, n)
  z1: tf.Tensor4D; // (B, L, L, C) paired image latent
}

export interface EncLoss {
  config: EncLossConfig;
  /** L_enc (unweighted); a zero scalar for 'none'. */
  apply(inputs: EncLossInputs): tf.Scalar;
}

function mlp(params: ParamStore, name: string, dims: [number, number, number]): (x: tf.Tensor) => tf.Tensor {
  const a: Linear = linear(params, `${name}.fc1`, dims[0], dims[1]);
  const b: Linear = linear(params, `${name}.fc2`, dims[1], dims[2]);
  return (x) => b(gelu(a(x)));
}

export function encoderLoss(config: EncLossConfig, dims: { textTokens: number; textDim: number; latentDim: number }, params: ParamStore, prefix = 'aux'): EncLoss {
  const { textTokens: n, textDim: d, latentDim } = dims;
  const H = config.hidden;
  const flat = (z: tf.Tensor4D) => z.reshape([z.shape[0], latentDim]) as tf.Tensor2D; // (B, L, L, C) -> (B, C L L)
  switch (config.kind) {
    case 'none':
      return { config, apply: () => tf.scalar(0) };
    case 'tt-recon': {
      const decoder = mlp(params, `${prefix}.text_decoder`, [latentDim, H, n * d]);
      return {
        config,
        apply: ({ z0, tokens, mask }) => {
          const B = z0.shape[0];
          const recon = decoder(flat(z0)).reshape([B, n, d]); // (B, C L L) -> (B, n d) -> (B, n, d)
          const m = mask.expandDims(-1); // (B, n, 1)
          const se = recon.sub(tokens).square().mul(m).sum();
          return se.div(m.sum().mul(d).maximum(1)) as tf.Scalar;
        },
      };
    }
    case 'tt-contrast': {
      const encoder = mlp(params, `${prefix}.text_encoder`, [d, H, latentDim]);
      const scale = params.create(`${prefix}.logit_scale`, [], 'zeros');
      tf.tidy(() => scale.assign(tf.scalar(config.logitScale)));
      return {
        config,
        apply: ({ z0, tokens, mask }) => {
          const m = mask.expandDims(-1);
          const pooled = tokens.mul(m).sum(1).div(m.sum(1).maximum(1)) as tf.Tensor2D; // (B, d)
          return contrastiveLoss(flat(z0), encoder(pooled) as tf.Tensor2D, scale);
        },
      };
    }
    case 'it-contrast': {
      const encoder = mlp(params, `${prefix}.image_encoder`, [latentDim, H, latentDim]);
      const scale = params.create(`${prefix}.logit_scale`, [], 'zeros');
      tf.tidy(() => scale.assign(tf.scalar(config.logitScale)));
      return { config, apply: ({ z0, z1 }) => contrastiveLoss(flat(z0), encoder(flat(z1)) as tf.Tensor2D, scale) };
    }
    default:
      throw invalidValue('enc.kind', config.kind, ENC_LOSSES.join(', '));
  }
}
