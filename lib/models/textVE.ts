// Text Variational Encoder (CrossFlow section 2/4): turns the frozen text encoder's tokens x (B, n, d)
// into a latent z0 with exactly the image latent's shape (B, L, L, C).
//   [optional Linear d -> width] -> post-LN transformer encoder layers (key-padding mask, ReLU FFN,
//   dropout, no positional embedding: the frozen encoder already carries order) -> reduction Linears
//   halving the width -> flatten all n tokens -> one Linear -> 2 C L L = (mu, logvar).
// Variants (paper Table 3a): 'plain' z0 = mu; 'noise' z0 = mu + noiseStd * eps (fixed Gaussian noise);
// 've' z0 = mu + exp(logvar / 2) * eps (the full VE, the final choice).
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../errors';
import { VE_VARIANTS, VeVariant } from '../config/choices';
import { packedSelfAttention } from '../nn/attention';
import { Linear, layerNorm, linear } from '../nn/layers';
import { ParamStore } from '../nn/params';


export interface TextVEConfig {
  /** Frozen text encoder: tokens per caption n and token width d. */
  textTokens: number;
  textDim: number;
  /** Transformer width (a Linear maps d to it when they differ). */
  width: number;
  layers: number;
  heads: number;
  ffn: number;
  dropout: number;
  /** Linears after the encoder, each halving the width. */
  reductions: number;
  latentChannels: number;
  latentSize: number;
  variant: VeVariant;
  /** Std of the fixed noise of the 'noise' variant. */
  noiseStd: number;
}

export interface TextVEOutput {
  mu: tf.Tensor4D; // (B, L, L, C)
  logvar: tf.Tensor4D; // (B, L, L, C)
  z0: tf.Tensor4D; // (B, L, L, C)
}

export interface TextVE {
  config: TextVEConfig;
  /**
   * Encodes tokens (B, n, d) with mask (B, n). eps (B, L, L, C) are the standard normals of the
   * reparameterisation (ignored by 'plain'); dropoutSeed switches dropout on (training) when given.
   */
  apply(tokens: tf.Tensor3D, mask: tf.Tensor2D, eps: tf.Tensor4D | null, dropoutSeed?: number): TextVEOutput;
}

interface EncoderLayer {
  qkv: Linear;
  proj: Linear;
  ln1: [tf.Variable, tf.Variable];
  fc1: Linear;
  fc2: Linear;
  ln2: [tf.Variable, tf.Variable];
}

export function validateTextVE(c: TextVEConfig): void {
  if (!(VE_VARIANTS as readonly string[]).includes(c.variant)) throw invalidValue('ve.variant', c.variant, VE_VARIANTS.join(', '));
  if (c.width % c.heads !== 0) throw invalidValue('ve.heads', c.heads, `a divisor of ve.width (${c.width})`);
  if (c.width % 2 ** c.reductions !== 0) throw invalidValue('ve.reductions', c.reductions, `at most log2 of the largest power of 2 dividing ve.width (${c.width})`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw invalidValue('ve.dropout', c.dropout, 'a number in [0, 1)');
}

function affineNorm(x: tf.Tensor, [g, b]: [tf.Variable, tf.Variable]): tf.Tensor {
  return layerNorm(x, 1e-5).mul(g).add(b);
}

export function textVE(config: TextVEConfig, params: ParamStore, prefix = 've'): TextVE {
  validateTextVE(config);
  const { textTokens: n, textDim: d, width: D, heads, ffn, layers, latentChannels: C, latentSize: L } = config;
  const inProj = d !== D ? linear(params, `${prefix}.in`, d, D) : null;
  const blocks: EncoderLayer[] = [];
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}.layer${i}`;
    blocks.push({
      qkv: linear(params, `${p}.qkv`, D, 3 * D),
      proj: linear(params, `${p}.proj`, D, D),
      ln1: [params.create(`${p}.ln1.g`, [D], 'ones'), params.create(`${p}.ln1.b`, [D], 'zeros')],
      fc1: linear(params, `${p}.fc1`, D, ffn),
      fc2: linear(params, `${p}.fc2`, ffn, D),
      ln2: [params.create(`${p}.ln2.g`, [D], 'ones'), params.create(`${p}.ln2.b`, [D], 'zeros')],
    });
  }
  const reductions: Linear[] = [];
  let w = D;
  for (let r = 0; r < config.reductions; r++, w /= 2) reductions.push(linear(params, `${prefix}.reduce${r}`, w, w / 2));
  const latentDim = C * L * L;
  // Small init of the head so z0 starts near N(0, 1)-sized values, not exploding with n * w inputs.
  const head = linear(params, `${prefix}.head`, n * w, 2 * latentDim, { init: { normal: 0.02 } });
  const flatWidth = w;

  const apply: TextVE['apply'] = (tokens, mask, eps, dropoutSeed) => {
    const [B, T] = tokens.shape;
    if (T !== n) throw invalidValue('text tokens', T, `${n} tokens per caption (ve.textTokens)`);
    let seedCounter = 0;
    const drop = (x: tf.Tensor): tf.Tensor =>
      dropoutSeed == null || config.dropout === 0 ? x : tf.dropout(x, config.dropout, undefined, dropoutSeed * 1009 + seedCounter++);
    let x: tf.Tensor = inProj ? inProj(tokens) : tokens; // (B, n, d) -> (B, n, D)
    for (const b of blocks) {
      // post-LN (torch nn.TransformerEncoderLayer, norm_first=False): x = LN(x + SA(x)); x = LN(x + FFN(x))
      const att = packedSelfAttention(b.qkv(x) as tf.Tensor3D, heads, mask); // (B, n, D) x (D, 3D) -> attention -> (B, n, D)
      x = affineNorm(x.add(drop(b.proj(att))), b.ln1);
      const h = b.fc2(drop(tf.relu(b.fc1(x)))); // (B, n, D) -> (B, n, ffn) -> (B, n, D)
      x = affineNorm(x.add(drop(h)), b.ln2);
    }
    for (const r of reductions) x = r(x); // (B, n, w) -> (B, n, w/2)
    const stats = head(x.reshape([B, n * flatWidth])); // (B, n w) x (n w, 2 C L L) -> (B, 2 C L L)
    const mu = stats.slice([0, 0], [B, latentDim]).reshape([B, L, L, C]) as tf.Tensor4D;
    const logvar = stats.slice([0, latentDim], [B, latentDim]).reshape([B, L, L, C]) as tf.Tensor4D;
    let z0: tf.Tensor4D;
    if (config.variant === 'plain' || !eps) z0 = mu;
    else if (config.variant === 'noise') z0 = mu.add(eps.mul(config.noiseStd)) as tf.Tensor4D;
    else z0 = mu.add(eps.mul(logvar.mul(0.5).exp())) as tf.Tensor4D;
    return { mu, logvar, z0 };
  };
  return { config, apply };
}
