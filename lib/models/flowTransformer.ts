// The flow model: a DiT-style transformer over latent tokens with adaLN time conditioning.
// CrossFlow uses it with self-attention only (the text is already in z0) plus a CFG indicator
// token; the standard flow-matching baseline adds cross-attention to the text tokens.
//
// Latents are NHWC: z (B, L, L, C); each of the L*L positions is one token (patch size 1).
import * as tf from '@tensorflow/tfjs';
import { CrossAttention, SelfAttention, crossAttention, selfAttention } from '../nn/attention';
import { Linear, gelu, layerNorm, linear, modulate, silu, timestepEmbedding } from '../nn/layers';
import { Init, ParamStore } from '../nn/params';

/** The global read-outs of z_t (see FlowTransformerConfig.globalCond). */
export const GLOBAL_CONDS = ['none', 'linear', 'mlp', 'film'] as const;
export type GlobalCond = (typeof GLOBAL_CONDS)[number];

export interface FlowTransformerConfig {
  latentChannels: number; // C
  latentSize: number; // L
  /** Side p of the square latent patch that makes one token (default 1: each latent position is a token). */
  patchSize?: number;
  width: number; // D
  depth: number;
  heads: number;
  mlpRatio: number;
  /** CFG indicator: one extra token, a learned embedding of 1_c (0 = unconditional, 1 = conditional). */
  indicator: boolean;
  /**
   * How the indicator enters (default 'token'): 'token' = the extra token above (DiMR style);
   * 'label' = the same learned embedding added to the time embedding (DiT label-embedding style).
   */
  indicatorForm?: 'token' | 'label';
  /** Baseline only: cross-attention to text tokens of this width after every self-attention. */
  contextDim: number | null;
  /** 'adaln-zero' (DiT): modulation and output layers start at zero, so each block starts as identity. */
  init: 'adaln-zero' | 'xavier';
  /**
   * Token positions (default 'learned'): 'learned' = a trained (1, T, D) table (init N(0, 0.02));
   * 'sincos' = DiT's fixed 2D sine-cosine table, right from step 0 (the indicator token gets zeros).
   */
  posEmbed?: 'learned' | 'sincos';
  /**
   * t is multiplied by this before the sinusoidal time embedding (default 1). Its frequencies run from 1
   * down to 1e-4 rad per unit, so t in (0, 1) unscaled uses only the slowest part of the table; DiT's
   * 1000 spreads (0, 1) over all of it.
   */
  timeScale?: number;
  /**
   * A global summary of z_t added to the adaLN conditioning (default 'none'). 'linear': one Linear over the
   * whole flattened latent (L*L*C -> D), added to the time embedding like DiT's class label. Why: CrossFlow's
   * text reaches the flow only as a direction in z0 spread over every latent position, and tokens with a
   * shared per-token projection can only read such a direction after several layers; this reads it in one
   * step, with position-specific weights. The model still sees nothing but (z_t, t, indicator). (Our own
   * choice; the nearest thing in the paper's DiMR backbone is its lowest-resolution branch.) 'mlp': the
   * same Linear, then SiLU and a second Linear (D -> D), so the summary can be a nonlinear function of z_t.
   * 'film': the 'mlp' summary with its hidden layer scaled and shifted by t (and the indicator, in label form)
   * before the SiLU: W2 SiLU((W1 flatten(z_t) + b1) (1 + a) + s) + b2, [a, s] = Linear(SiLU(time embedding)),
   * zero-initialised so it starts as 'mlp'. Why: z0 reaches z_t scaled by (1 - t), so the text direction is ten
   * times fainter at t = 0.9 than at t = 0; a read-out that does not know t must use one threshold for both.
   */
  globalCond?: GlobalCond;
  /** Width of the 'mlp' / 'film' read-out's hidden layer (default: width D). */
  globalHidden?: number;
  /**
   * U-ViT long skips (default false; the paper's DiMR backbone has them): block depth-1-i receives block i's
   * output for i < floor(depth / 2), as x + W skip with W zero-initialised, so training starts from the
   * plain DiT.
   */
  longSkips?: boolean;
  /**
   * Self-conditioning (default false; Chen et al. 2022, "Analog Bits", not in the CrossFlow paper): the model
   * also reads its own previous estimate of the source, z0_hat = z_t - t v (zeros when it has none), as C more
   * input channels per position and, with a globalCond read-out, as more read-out inputs. Why: z0 reaches z_t
   * scaled by (1 - t), so late in the path the text is faint in z_t; z0_hat carries it at full scale. The
   * estimate comes from the model itself, so the flow still sees nothing of the text but what z0 carried.
   */
  selfCond?: boolean;
}

/** DiT's fixed 2D sine-cosine position table: (G*G, D), D divisible by 4; row k is grid cell (k / G, k % G). */
export function sincosPositions2d(G: number, D: number): Float32Array {
  if (D % 4 !== 0) throw new Error(`posEmbed 'sincos' needs a width divisible by 4, got ${D}`);
  const quarter = D / 4;
  const out = new Float32Array(G * G * D);
  for (let r = 0; r < G; r++)
    for (let c = 0; c < G; c++) {
      const row = out.subarray((r * G + c) * D, (r * G + c + 1) * D);
      // First half encodes the column (w), second half the row (h), each as [sin(pos w_i), cos(pos w_i)].
      [c, r].forEach((p, half) => {
        for (let i = 0; i < quarter; i++) {
          const omega = 1 / 10000 ** (i / quarter);
          row[half * 2 * quarter + i] = Math.sin(p * omega);
          row[half * 2 * quarter + quarter + i] = Math.cos(p * omega);
        }
      });
    }
  return out;
}

export interface FlowTransformer {
  config: FlowTransformerConfig;
  params: ParamStore;
  /**
   * Velocity v (B, L, L, C) at z_t (B, L, L, C), time t (B,), indicator (B,) int32 or null. With
   * config.selfCond, `previous` is the model's last estimate of the source (B, L, L, C), or null for none.
   */
  apply(z: tf.Tensor4D, t: tf.Tensor1D, indicator: tf.Tensor1D | null, context?: { tokens: tf.Tensor3D; mask: tf.Tensor2D }, previous?: tf.Tensor4D | null): tf.Tensor4D;
}

const TIME_FREQ_DIM = 256;

interface Block {
  ada: Linear;
  attn: SelfAttention;
  cross: CrossAttention | null;
  fc1: Linear;
  fc2: Linear;
}

export function flowTransformer(config: FlowTransformerConfig, params: ParamStore, prefix = 'flow'): FlowTransformer {
  const { latentChannels: C, latentSize: L, width: D, depth, heads, mlpRatio } = config;
  const P = config.patchSize ?? 1;
  if (!Number.isInteger(P) || P < 1 || L % P !== 0) throw new Error(`patchSize ${P} must be a positive divisor of latentSize ${L}`);
  const G = L / P; // tokens per side
  const patchDim = P * P * C;
  const inChannels = config.selfCond ? 2 : 1; // [z_t; z0_hat] per position with self-conditioning
  const zeroInit: Init = config.init === 'adaln-zero' ? 'zeros' : 'xavier';
  const asToken = config.indicator && (config.indicatorForm ?? 'token') === 'token';
  const tokens = G * G + (asToken ? 1 : 0);
  const inp = linear(params, `${prefix}.input`, inChannels * patchDim, D);
  let pos: tf.Tensor;
  if ((config.posEmbed ?? 'learned') === 'learned') pos = params.create(`${prefix}.pos`, [1, tokens, D], { normal: 0.02 });
  else {
    const table = new Float32Array(tokens * D);
    table.set(sincosPositions2d(G, D), asToken ? D : 0); // the indicator token (first) has no position
    pos = tf.tensor3d(table, [1, tokens, D]);
    params.constants.push(pos);
  }
  const timeScale = config.timeScale ?? 1;
  const indicatorTable = config.indicator ? params.create(`${prefix}.indicator`, [2, D], { normal: 0.02 }) : null;
  const t1 = linear(params, `${prefix}.time1`, TIME_FREQ_DIM, D, { init: { normal: 0.02 } });
  const t2 = linear(params, `${prefix}.time2`, D, D, { init: { normal: 0.02 } });
  const blocks: Block[] = [];
  for (let i = 0; i < depth; i++) {
    const name = `${prefix}.block${i}`;
    blocks.push({
      ada: linear(params, `${name}.ada`, D, 6 * D, { init: zeroInit }),
      attn: selfAttention(params, `${name}.attn`, D, heads),
      cross: config.contextDim != null ? crossAttention(params, `${name}.cross`, D, config.contextDim, heads) : null,
      fc1: linear(params, `${name}.fc1`, D, mlpRatio * D),
      fc2: linear(params, `${name}.fc2`, mlpRatio * D, D),
    });
  }
  const finalAda = linear(params, `${prefix}.final_ada`, D, 2 * D, { init: zeroInit });
  const out = linear(params, `${prefix}.output`, D, patchDim, { init: zeroInit });
  // Created last, so every other parameter is initialised as without it.
  const globalCond = config.globalCond ?? 'none';
  const hidden = globalCond === 'mlp' || globalCond === 'film';
  const H = hidden ? config.globalHidden ?? D : D; // the read-out's hidden width
  if (!Number.isInteger(H) || H < 1) throw new Error(`globalHidden must be a positive integer, got ${H}`);
  const summaryIn = globalCond !== 'none' ? linear(params, `${prefix}.global`, inChannels * L * L * C, H, { init: { normal: 0.02 } }) : null;
  const summaryOut = hidden ? linear(params, `${prefix}.global_out`, H, D, { init: { normal: 0.02 } }) : null;
  const summaryFilm = globalCond === 'film' ? linear(params, `${prefix}.global_film`, D, 2 * H, { init: 'zeros' }) : null;
  // (B, k L*L*C) x (k L*L*C, H) -> (B, H) [-> FiLM by SiLU(c) (B, D) -> SiLU -> (B, H) x (H, D) -> (B, D)]
  const summary = summaryIn
    ? (flat: tf.Tensor, cond: tf.Tensor) => {
        if (!summaryOut) return summaryIn(flat);
        let pre = summaryIn(flat);
        if (summaryFilm) {
          const [scale, shift] = tf.split(summaryFilm(silu(cond)), 2, -1); // 2 x (B, H)
          pre = pre.mul(scale.add(1)).add(shift);
        }
        return summaryOut(silu(pre));
      }
    : null;
  const skipCount = config.longSkips ? Math.floor(depth / 2) : 0;
  // skipIn[k] joins block k's input to the output of block depth-1-k (k < skipCount).
  const skipIn = new Map<number, Linear>();
  for (let i = 0; i < skipCount; i++) skipIn.set(depth - 1 - i, linear(params, `${prefix}.skip${i}`, D, D, { init: 'zeros' }));
  // (B, L, L, C) <-> (B, G*G, P*P*C); with P = 1 these are plain reshapes.
  const K = inChannels * C;
  const patchifyIn = (z: tf.Tensor4D, B: number) =>
    P === 1 ? z.reshape([B, L * L, K]) : z.reshape([B, G, P, G, P, K]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, G * G, P * P * K]);
  const unpatchify = (y: tf.Tensor, B: number) =>
    (P === 1 ? y.reshape([B, L, L, C]) : y.reshape([B, G, G, P, P, C]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, L, L, C])) as tf.Tensor4D;

  const apply: FlowTransformer['apply'] = (z, t, indicator, context, previous) => {
    const B = z.shape[0];
    if (config.contextDim != null && !context) throw new Error('this flow transformer has cross-attention: pass context tokens');
    if (previous && !config.selfCond) throw new Error('this flow transformer has no self-conditioning: pass no previous estimate');
    const input = config.selfCond ? (tf.concat([z, previous ?? tf.zerosLike(z)], -1) as tf.Tensor4D) : z; // (B, L, L, kC)
    let x = inp(patchifyIn(input, B)) as tf.Tensor3D; // (B, G*G, k P*P*C) x (k P*P*C, D) -> (B, G*G, D)
    if (indicatorTable && !indicator) throw new Error('this flow transformer has a CFG indicator: pass indicator (B,) of 0/1');
    if (indicatorTable && indicator && asToken) {
      const ind = tf.gather(indicatorTable, indicator).expandDims(1); // (B, 1, D)
      x = tf.concat([ind, x], 1) as tf.Tensor3D; // (B, 1 + L*L, D)
    }
    x = x.add(pos) as tf.Tensor3D;
    let c = t2(silu(t1(timestepEmbedding(timeScale === 1 ? t : t.mul(timeScale), TIME_FREQ_DIM)))); // (B, 256) -> (B, D) -> (B, D)
    if (indicatorTable && indicator && !asToken) c = c.add(tf.gather(indicatorTable, indicator)) as tf.Tensor2D; // label embedding
    if (summary) c = c.add(summary(input.reshape([B, inChannels * L * L * C]), c)) as tf.Tensor2D; // (B, k L*L*C) -> (B, D)
    const siluC = silu(c); // shared by every adaLN projection
    const skips: tf.Tensor3D[] = [];
    for (const [i, b] of blocks.entries()) {
      const join = skipIn.get(i);
      if (join) x = x.add(join(skips.pop()!)) as tf.Tensor3D; // (B, T, D) + (B, T, D) x (D, D)
      const [shift1, scale1, gate1, shift2, scale2, gate2] = tf.split(b.ada(siluC), 6, -1); // 6 x (B, D)
      x = x.add(gate1.expandDims(1).mul(b.attn(modulate(layerNorm(x), shift1, scale1) as tf.Tensor3D))) as tf.Tensor3D;
      if (b.cross && context) x = x.add(b.cross(layerNorm(x) as tf.Tensor3D, context.tokens, context.mask)) as tf.Tensor3D;
      const h = b.fc2(gelu(b.fc1(modulate(layerNorm(x), shift2, scale2)))); // (B, T, D) -> (B, T, 4D) -> (B, T, D)
      x = x.add(gate2.expandDims(1).mul(h)) as tf.Tensor3D;
      if (i < skipCount) skips.push(x);
    }
    const [shift, scale] = tf.split(finalAda(siluC), 2, -1);
    let y = modulate(layerNorm(x), shift, scale);
    if (asToken) y = y.slice([0, 1, 0], [B, G * G, D]); // drop the indicator token
    return unpatchify(out(y), B); // (B, G*G, D) x (D, P*P*C) -> (B, L, L, C)
  };
  return { config, params, apply };
}
