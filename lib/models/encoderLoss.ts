// The Text VE's auxiliary loss L_enc (CrossFlow Table 3b), each with the small module it trains:
//   'tt-recon'    : a decoder maps z0 back to the text embedding x (B, n, d); MSE over real tokens.
//   'tt-contrast' : CLIP-style InfoNCE between z0 and a small encoder of x (masked mean -> MLP).
//   'it-contrast' : CLIP-style InfoNCE between z0 and an image encoder's embedding of the paired
//                   image latent z1 (the final choice; the image encoder trains jointly). The paper does
//                   not say what that encoder is; enc.imageEncoder picks 'mlp' (over the flattened latent)
//                   or 'conv' (two 3x3 convolutions, then mean and max over positions: it sees a shape the
//                   same wherever it lies, which an MLP must learn at every position separately).
// As in the official code the contrastive losses use the flattened *sampled* z0, L2-normalised, and a
// raw learnable logit scale initialised to ln(1/0.07). These modules only shape the VE during training;
// sampling never runs them.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';
import { ENC_LOSSES, EncLossKind, IMAGE_ENCODERS, ImageEncoderKind } from '../config/choices';
import { Linear, circularNeighbourhood3x3, gelu, linear } from '../nn/layers';
import { ParamStore } from '../nn/params';
import { contrastiveLoss } from './veLosses';


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
  /** it-contrast's image encoder (default 'mlp'); 'conv' uses convChannels channels. */
  imageEncoder?: ImageEncoderKind;
  convChannels?: number;
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

/**
 * Image encoder of 'conv': (B, L, L, C) -> 3x3 conv -> GELU -> 3x3 conv -> GELU -> [mean, max] over the L*L
 * positions -> Linear -> (B, out). Circular padding, so a circular shift of the latent leaves it unchanged.
 */
export function convImageEncoder(params: ParamStore, name: string, C: number, channels: number, out: number): (z: tf.Tensor4D) => tf.Tensor2D {
  const c1 = linear(params, `${name}.conv1`, 9 * C, channels);
  const c2 = linear(params, `${name}.conv2`, 9 * channels, channels);
  const head = linear(params, `${name}.head`, 2 * channels, out);
  return (z) => {
    const h1 = gelu(c1(circularNeighbourhood3x3(z))) as tf.Tensor4D; // (B, L, L, 9C) x (9C, K) -> (B, L, L, K)
    const h2 = gelu(c2(circularNeighbourhood3x3(h1))) as tf.Tensor4D; // (B, L, L, 9K) x (9K, K) -> (B, L, L, K)
    const pooled = tf.concat([h2.mean([1, 2]), h2.max([1, 2])], 1); // (B, 2K)
    return head(pooled) as tf.Tensor2D; // (B, 2K) x (2K, out) -> (B, out)
  };
}

export function encoderLoss(config: EncLossConfig, dims: { textTokens: number; textDim: number; latentSize: number; latentChannels: number }, params: ParamStore, prefix = 'aux'): EncLoss {
  const { textTokens: n, textDim: d, latentSize: L, latentChannels: C } = dims;
  const latentDim = L * L * C;
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
      const kind = config.imageEncoder ?? 'mlp';
      if (!IMAGE_ENCODERS.includes(kind)) throw invalidValue('enc.imageEncoder', kind, IMAGE_ENCODERS.join(', '));
      const embed: (z1: tf.Tensor4D) => tf.Tensor2D =
        kind === 'conv'
          ? convImageEncoder(params, `${prefix}.image_encoder`, C, config.convChannels ?? 64, latentDim)
          : ((f) => (z1: tf.Tensor4D) => f(flat(z1)) as tf.Tensor2D)(mlp(params, `${prefix}.image_encoder`, [latentDim, H, latentDim]));
      const scale = params.create(`${prefix}.logit_scale`, [], 'zeros');
      tf.tidy(() => scale.assign(tf.scalar(config.logitScale)));
      return { config, apply: ({ z0, z1 }) => contrastiveLoss(flat(z0), embed(z1), scale) };
    }
    default:
      throw invalidValue('enc.kind', config.kind, ENC_LOSSES.join(', '));
  }
}
