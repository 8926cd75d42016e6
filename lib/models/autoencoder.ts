// A small KL-regularised convolutional autoencoder (the stand-in for SD's kl-f8 VAE): images
// (B, 32, 32, 3) in [0, 1] -> latents (B, 8, 8, 4) and back. Trained once per dataset and cached;
// the flow works on the posterior means divided by `scale` (1 / their std), so latents have unit std.
//   encoder: conv3x3(3->c) silu, conv3x3 s2 (c->2c) silu, conv3x3 s2 (2c->2c) silu, conv3x3 (2c -> 2C) = (mu, logvar)
//   decoder: conv3x3(C->2c) silu, conv3x3(2c->2c) silu, [conv3x3 -> 4x channels, pixel shuffle x2] silu twice, conv3x3(c->3)
// Upsampling is a pixel shuffle (reshape + transpose) so backprop needs only conv2d and its gradients.
import * as tf from '@tensorflow/tfjs';
import { ParamStore } from '../nn/params';
import { linear, silu } from '../nn/layers';

export const AE_KINDS = ['patch', 'conv'] as const;

export interface AutoencoderConfig {
  /**
   * 'conv': the convolutional design above. 'patch' (default): each 4x4x3 patch -> MLP -> C numbers and
   * back (matmuls only: ~10x faster to train on 2 cores, where the conv kernels are the bottleneck;
   * the flow transformer supplies the spatial structure).
   */
  kind?: (typeof AE_KINDS)[number];
  imageSize: number; // 32
  latentChannels: number; // C = 4
  /** Base width c. */
  channels: number;
  /** Weight of KL(q(z|x) || N(0, 1)) (per latent element mean) against the per-pixel MSE. */
  klWeight: number;
}

export const DEFAULT_AE: AutoencoderConfig = { imageSize: 32, latentChannels: 4, channels: 32, klWeight: 1e-4 };

interface Conv {
  (x: tf.Tensor4D): tf.Tensor4D;
}

function conv(params: ParamStore, name: string, k: number, cin: number, cout: number, stride = 1): Conv {
  const w = params.create(`${name}.weight`, [k, k, cin, cout], 'xavier');
  const b = params.create(`${name}.bias`, [cout], 'zeros');
  return (x) => tf.conv2d(x, w as unknown as tf.Tensor4D, stride, 'same').add(b) as tf.Tensor4D;
}

/** (B, H, W, 4c) -> (B, 2H, 2W, c) */
function pixelShuffle(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W, C4] = x.shape;
  const c = C4 / 4;
  return x.reshape([B, H, W, 2, 2, c]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, 2 * H, 2 * W, c]) as tf.Tensor4D;
}

export interface Autoencoder {
  config: AutoencoderConfig;
  params: ParamStore;
  latentSize: number;
  /** Posterior (mu, logvar), each (B, L, L, C), unscaled. */
  encode(images: tf.Tensor4D): { mu: tf.Tensor4D; logvar: tf.Tensor4D };
  /** Images (B, H, W, 3) from unscaled latents (B, L, L, C). */
  decode(z: tf.Tensor4D): tf.Tensor4D;
  /** Training loss on images in [0, 1]: MSE(recon, x) + klWeight * mean KL; eps (B, L, L, C) standard normals. */
  loss(images: tf.Tensor4D, eps: tf.Tensor4D): { total: tf.Scalar; mse: tf.Scalar; kl: tf.Scalar };
}

/** (B, H, W, 3) -> (B, H/4, W/4, 48) */
function patchify(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W, K] = x.shape;
  return x.reshape([B, H / 4, 4, W / 4, 4, K]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, H / 4, W / 4, 16 * K]) as tf.Tensor4D;
}

/** (B, L, L, 48) -> (B, 4L, 4L, 3) */
function unpatchify(x: tf.Tensor4D): tf.Tensor4D {
  const [B, L] = x.shape;
  return x.reshape([B, L, L, 4, 4, 3]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, 4 * L, 4 * L, 3]) as tf.Tensor4D;
}

function patchAutoencoder(config: AutoencoderConfig, params: ParamStore, prefix: string): Pick<Autoencoder, 'encode' | 'decode'> {
  const { latentChannels: C } = config;
  const H = config.channels * 8; // hidden width of the per-patch MLPs
  const e1 = linear(params, `${prefix}.enc1`, 48, H);
  const e2 = linear(params, `${prefix}.enc2`, H, H);
  const e3 = linear(params, `${prefix}.enc_out`, H, 2 * C);
  const d1 = linear(params, `${prefix}.dec_in`, C, H);
  const d2 = linear(params, `${prefix}.dec2`, H, H);
  const d3 = linear(params, `${prefix}.dec_out`, H, 48);
  return {
    encode: (images) => {
      const h = e3(silu(e2(silu(e1(patchify(images)))))) as tf.Tensor4D; // (B, L, L, 48) -> (B, L, L, 2C)
      const [B, L] = h.shape;
      const mu = h.slice([0, 0, 0, 0], [B, L, L, C]);
      const logvar = h.slice([0, 0, 0, C], [B, L, L, C]).clipByValue(-30, 20) as tf.Tensor4D;
      return { mu, logvar };
    },
    decode: (z) => unpatchify(d3(silu(d2(silu(d1(z))))) as tf.Tensor4D), // (B, L, L, C) -> (B, L, L, 48) -> (B, 4L, 4L, 3)
  };
}

export function autoencoder(config: AutoencoderConfig, params: ParamStore, prefix = 'ae'): Autoencoder {
  if ((config.kind ?? 'patch') === 'patch') {
    const { encode, decode } = patchAutoencoder(config, params, prefix);
    return withLoss(config, params, encode, decode);
  }
  const { latentChannels: C, channels: c } = config;
  const e1 = conv(params, `${prefix}.enc1`, 3, 3, c);
  const e2 = conv(params, `${prefix}.enc2`, 3, c, 2 * c, 2);
  const e3 = conv(params, `${prefix}.enc3`, 3, 2 * c, 2 * c, 2);
  const e4 = conv(params, `${prefix}.enc_out`, 3, 2 * c, 2 * C);
  const d1 = conv(params, `${prefix}.dec_in`, 3, C, 2 * c);
  const d2 = conv(params, `${prefix}.dec2`, 3, 2 * c, 2 * c);
  const u1 = conv(params, `${prefix}.up1`, 3, 2 * c, 4 * c);
  const u2 = conv(params, `${prefix}.up2`, 3, c, 4 * c);
  const d3 = conv(params, `${prefix}.dec_out`, 3, c, 3);
  const act = (x: tf.Tensor4D) => silu(x) as tf.Tensor4D;

  const encode: Autoencoder['encode'] = (images) => {
    const h = e4(act(e3(act(e2(act(e1(images))))))); // (B, 32, 32, 3) -> (B, 8, 8, 2C)
    const [B, L] = h.shape;
    const mu = h.slice([0, 0, 0, 0], [B, L, L, C]);
    const logvar = h.slice([0, 0, 0, C], [B, L, L, C]).clipByValue(-30, 20) as tf.Tensor4D;
    return { mu, logvar };
  };
  const decode: Autoencoder['decode'] = (z) => {
    let h = act(d2(act(d1(z)))); // (B, 8, 8, 2c)
    h = act(pixelShuffle(u1(h))); // (B, 16, 16, c)
    h = act(pixelShuffle(u2(h))); // (B, 32, 32, c)
    return d3(h); // (B, 32, 32, 3)
  };
  return withLoss(config, params, encode, decode);
}

function withLoss(config: AutoencoderConfig, params: ParamStore, encode: Autoencoder['encode'], decode: Autoencoder['decode']): Autoencoder {
  const loss: Autoencoder['loss'] = (images, eps) => {
    const { mu, logvar } = encode(images);
    const z = mu.add(eps.mul(logvar.mul(0.5).exp())) as tf.Tensor4D;
    const mse = decode(z).sub(images).square().mean() as tf.Scalar;
    const kl = mu.square().add(logvar.exp()).sub(1).sub(logvar).mul(0.5).mean() as tf.Scalar;
    return { total: mse.add(kl.mul(config.klWeight)) as tf.Scalar, mse, kl };
  };
  return { config, params, latentSize: config.imageSize / 4, encode, decode, loss };
}
