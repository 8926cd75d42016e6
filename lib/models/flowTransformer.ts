// The flow model: a DiT-style transformer over latent tokens with adaLN time conditioning.
// CrossFlow uses it with self-attention only (the text is already in z0) plus a CFG indicator
// token; the standard flow-matching baseline adds cross-attention to the text tokens.
//
// Latents are NHWC: z (B, L, L, C); a P x P patch of positions is one token (G = L / P per side).
//
// globalCond (our option, off in the presets; the quickstart recipe uses 'mlp'): CrossFlow's text
// reaches the flow only as a direction in z0 spread over every latent position, which per-token
// layers read only after several blocks. 'linear' adds Linear(flatten(z_t)) (L*L*C -> D) to the
// time embedding, as DiT adds its class label; 'mlp' is Linear-SiLU-Linear. The flow still sees
// nothing but (z_t, t, indicator). Measured in results/quickstart/README.md (sessions 5-8).
import * as tf from '@tensorflow/tfjs';
import { CrossAttention, SelfAttention, crossAttention, selfAttention } from '../nn/attention';
import { Linear, adaLayerNorm, gatedResidual, gelu, layerNorm, linear, silu, timestepEmbedding } from '../nn/layers';
import { Init, ParamStore } from '../nn/params';
import type { GlobalCond } from '../config/choices';

export interface FlowTransformerConfig {
  latentChannels: number; // C
  latentSize: number; // L
  /** Side p of the square latent patch that makes one token (default 1). */
  patchSize?: number;
  width: number; // D
  depth: number;
  heads: number;
  mlpRatio: number;
  /** CFG indicator 1_c as a learned embedding (0 = unconditional, 1 = conditional). */
  indicator: boolean;
  /** 'token': one extra token (DiMR style, default); 'label': added to the time embedding (DiT style). */
  indicatorForm?: 'token' | 'label';
  /** Baseline only: cross-attention to text tokens of this width after every self-attention. */
  contextDim: number | null;
  /** 'adaln-zero' (DiT): modulation and output layers start at zero, so each block starts as identity. */
  init: 'adaln-zero' | 'xavier';
  /** 'learned' (default): a trained (1, T, D) table; 'sincos': DiT's fixed 2D table. */
  posEmbed?: 'learned' | 'sincos';
  /** A read-out of the whole flattened z_t added to the adaLN conditioning (default 'none'; header above). */
  globalCond?: GlobalCond;
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
  /** Velocity v (B, L, L, C) at z_t (B, L, L, C), time t (B,), indicator (B,) int32 or null. */
  apply(z: tf.Tensor4D, t: tf.Tensor1D, indicator: tf.Tensor1D | null, context?: { tokens: tf.Tensor3D; mask: tf.Tensor2D }): tf.Tensor4D;
}

const TIME_FREQ_DIM = 256;

/** (B, L, L, C) -> (B, G*G, P*P*C): token g = (gi, gj) holds z[gi P + pi, gj P + pj, c] in (pi, pj, c) order. */
export function patchify(z: tf.Tensor4D, P: number): tf.Tensor3D {
  const [B, L, , C] = z.shape;
  const G = L / P;
  if (P === 1) return z.reshape([B, L * L, C]);
  return z.reshape([B, G, P, G, P, C]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, G * G, P * P * C]);
}

/** The inverse of patchify: (B, G*G, P*P*C) -> (B, L, L, C). */
export function unpatchify(y: tf.Tensor, L: number, P: number): tf.Tensor4D {
  const [B, , K] = y.shape;
  const G = L / P;
  const C = K / (P * P);
  if (P === 1) return y.reshape([B, L, L, C]);
  return y.reshape([B, G, G, P, P, C]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, L, L, C]);
}

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
  const zeroInit: Init = config.init === 'adaln-zero' ? 'zeros' : 'xavier';
  const asToken = config.indicator && (config.indicatorForm ?? 'token') === 'token';
  const tokens = G * G + (asToken ? 1 : 0);
  const inp = linear(params, `${prefix}.input`, patchDim, D);
  let pos: tf.Tensor;
  if ((config.posEmbed ?? 'learned') === 'learned') pos = params.create(`${prefix}.pos`, [1, tokens, D], { normal: 0.02 });
  else {
    const table = new Float32Array(tokens * D);
    table.set(sincosPositions2d(G, D), asToken ? D : 0); // the indicator token (first) has no position
    pos = tf.tensor3d(table, [1, tokens, D]);
    params.constants.push(pos);
  }
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
  // The read-out is created last, so every other parameter is initialised as without it.
  const globalCond = config.globalCond ?? 'none';
  const summaryIn = globalCond !== 'none' ? linear(params, `${prefix}.global`, L * L * C, D, { init: { normal: 0.02 } }) : null;
  const summaryOut = globalCond === 'mlp' ? linear(params, `${prefix}.global_out`, D, D, { init: { normal: 0.02 } }) : null;
  // (B, L*L*C) x (L*L*C, D) -> (B, D) [-> SiLU -> (B, D) x (D, D) -> (B, D)]
  const summary = (flat: tf.Tensor) => (summaryOut ? summaryOut(silu(summaryIn!(flat))) : summaryIn!(flat));

  const apply: FlowTransformer['apply'] = (z, t, indicator, context) => {
    const B = z.shape[0];
    if (config.contextDim != null && !context) throw new Error('this flow transformer has cross-attention: pass context tokens');
    if (indicatorTable && !indicator) throw new Error('this flow transformer has a CFG indicator: pass indicator (B,) of 0/1');
    let x = inp(patchify(z, P)) as tf.Tensor3D; // (B, G*G, P*P*C) x (P*P*C, D) -> (B, G*G, D)
    if (indicatorTable && indicator && asToken) {
      const ind = tf.gather(indicatorTable, indicator).expandDims(1); // (B, 1, D)
      x = tf.concat([ind, x], 1) as tf.Tensor3D; // (B, 1 + G*G, D)
    }
    x = x.add(pos) as tf.Tensor3D;
    let c = t2(silu(t1(timestepEmbedding(t, TIME_FREQ_DIM)))); // (B, 256) -> (B, D) -> (B, D)
    if (indicatorTable && indicator && !asToken) c = c.add(tf.gather(indicatorTable, indicator)) as tf.Tensor2D; // label embedding
    if (summaryIn) c = c.add(summary(z.reshape([B, L * L * C]))) as tf.Tensor2D; // (B, L*L*C) -> (B, D)
    const siluC = silu(c); // shared by every adaLN projection
    for (const b of blocks) {
      const [shift1, scale1, gate1, shift2, scale2, gate2] = tf.split(b.ada(siluC), 6, -1); // 6 x (B, D)
      x = gatedResidual(x, gate1 as tf.Tensor2D, b.attn(adaLayerNorm(x, shift1 as tf.Tensor2D, scale1 as tf.Tensor2D)));
      if (b.cross && context) x = x.add(b.cross(layerNorm(x) as tf.Tensor3D, context.tokens, context.mask)) as tf.Tensor3D;
      const h = b.fc2(gelu(b.fc1(adaLayerNorm(x, shift2 as tf.Tensor2D, scale2 as tf.Tensor2D)))); // (B, T, D) -> (B, T, 4D) -> (B, T, D)
      x = gatedResidual(x, gate2 as tf.Tensor2D, h as tf.Tensor3D);
    }
    const [shift, scale] = tf.split(finalAda(siluC), 2, -1); // 2 x (B, D)
    let y: tf.Tensor = adaLayerNorm(x, shift as tf.Tensor2D, scale as tf.Tensor2D);
    if (asToken) y = y.slice([0, 1, 0], [B, G * G, D]); // drop the indicator token
    return unpatchify(out(y), L, P); // (B, G*G, D) x (D, P*P*C) -> (B, L, L, C)
  };
  return { config, params, apply };
}
