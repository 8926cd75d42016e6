// The `ref-dit` workload: one flow-matching training step of a 7.38M-parameter DiT, exactly as the
// project's PyTorch reference defines it (model, batch, AdamW, timing rule), so the two can be compared.
import * as tf from '@tensorflow/tfjs';
import { median } from 'simple-statistics';
import { currentBackend, initBackend } from '../backend/select';
import { FlowTransformerConfig, flowTransformer } from '../models/flowTransformer';
import { ParamStore } from '../nn/params';
import { AdamW } from '../optim/adamw';

export interface RefDitOptions {
  batch?: number;
  warmup?: number;
  steps?: number;
  /** Also run one profiled step and report the time per kernel. */
  profile?: boolean;
  seed?: number;
}

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
  share: number;
}

export interface RefDitResult {
  workload: 'ref-dit';
  backend: string;
  blas_threads: number | null;
  batch: number;
  params: number;
  warmup: number;
  steps: number;
  step_ms_median: number;
  step_ms_min: number;
  step_ms_all: number[];
  gflop_per_step: number;
  achieved_gflops: number;
  loss_first: number;
  loss_last: number;
  profile?: KernelTime[];
}

export const REF_DIT_CONFIG: FlowTransformerConfig = {
  latentChannels: 4,
  latentSize: 8,
  width: 256,
  depth: 6,
  heads: 4,
  mlpRatio: 4,
  indicator: true,
  contextDim: null,
  init: 'xavier',
};

/** Multiply-adds x2 of one forward pass, counting matmuls only (elementwise work is small). */
export function refDitForwardFlops(cfg: FlowTransformerConfig, batch: number): number {
  const { width: D, depth, heads, mlpRatio, latentSize: L, latentChannels: C } = cfg;
  const T = L * L + (cfg.indicator ? 1 : 0);
  const perTokenMacs = depth * (D * 3 * D + D * D + 2 * D * mlpRatio * D); // qkv, proj, fc1, fc2
  const attentionMacs = depth * 2 * heads * T * T * (D / heads); // q k^T and att v
  const perSampleMacs = 256 * D + D * D + depth * D * 6 * D + D * 2 * D; // time MLP and adaLN
  const ioMacs = L * L * C * D * 2; // input and output projections
  return 2 * batch * (T * perTokenMacs + attentionMacs + perSampleMacs + ioMacs);
}

export interface RefDitStep {
  /** One training step (forward, backward, AdamW update); returns the loss it read back. */
  step: () => number;
  params: number;
  dispose: () => void;
}

/** The ref-dit model, optimiser and data, ready to step; the caller disposes it. */
export function createRefDitStep(batch = 32, seed = 0): RefDitStep {
  const cfg = REF_DIT_CONFIG;
  const params = new ParamStore(seed);
  const model = flowTransformer(cfg, params);
  const optimizer = new AdamW({ lr: 1e-4, beta1: 0.9, beta2: 0.9, weightDecay: 0.03 });
  const vars = params.list();
  const shape: [number, number, number, number] = [batch, cfg.latentSize, cfg.latentSize, cfg.latentChannels];
  const z0 = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const z1 = tf.randomNormal(shape, 0, 1, 'float32', 2);
  const target = z1.sub(z0);

  const step = (): number => {
    const { value, grads } = tf.variableGrads(() => {
      const t = tf.sigmoid(tf.randomNormal([batch])) as tf.Tensor1D;
      const tb = t.reshape([batch, 1, 1, 1]);
      const zt = tb.mul(z1).add(tf.sub(1, tb).mul(z0)) as tf.Tensor4D;
      const indicator = tf.randomUniform([batch]).greater(0.1).cast('int32') as tf.Tensor1D;
      return tf.losses.meanSquaredError(target, model.apply(zt, t, indicator)) as tf.Scalar;
    }, vars);
    optimizer.apply(vars, grads);
    const loss = value.dataSync()[0]; // the step includes reading the loss, as in the reference
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
  return {
    step,
    params: params.count(),
    dispose: () => {
      optimizer.dispose();
      params.dispose();
      tf.dispose([z0, z1, target]);
    },
  };
}

/** Builds the model, runs warm-up + timed steps, and reports wall-clock medians (and a kernel profile). */
export async function runRefDitBench(opts: RefDitOptions = {}): Promise<RefDitResult> {
  const report = currentBackend() ?? (await initBackend());
  const batch = opts.batch ?? 32;
  const warmup = opts.warmup ?? 3;
  const steps = opts.steps ?? 20;
  const cfg = REF_DIT_CONFIG;
  const { step, params, dispose } = createRefDitStep(batch, opts.seed ?? 0);

  let lossFirst = NaN;
  for (let i = 0; i < warmup; i++) {
    const l = step();
    if (i === 0) lossFirst = l;
  }
  const times: number[] = [];
  let lossLast = NaN;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    lossLast = step();
    times.push(performance.now() - t0);
  }

  let profile: KernelTime[] | undefined;
  if (opts.profile) {
    const info = await tf.profile(() => {
      step();
    });
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      // tf.profile also lists op wrappers (e.g. 'fusedMatMul__op'); keep the backend's kernels only.
      if (!tf.getKernel(k.name, tf.getBackend())) continue;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += ms;
      e.calls += 1;
      byKernel.set(k.name, e);
    }
    const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
    profile = [...byKernel.entries()]
      .map(([kernel, e]) => ({ kernel, ms: round(e.ms, 2), calls: e.calls, share: round(e.ms / total, 4) }))
      .sort((a, b) => b.ms - a.ms);
  }

  const flops = 3 * refDitForwardFlops(cfg, batch); // forward + backward (two matmuls per forward matmul)
  const result: RefDitResult = {
    workload: 'ref-dit',
    backend: report.backend,
    blas_threads: report.blasThreads,
    batch,
    params,
    warmup,
    steps,
    step_ms_median: round(median(times), 2),
    step_ms_min: round(Math.min(...times), 2),
    step_ms_all: times.map((t) => round(t, 1)),
    gflop_per_step: round(flops / 1e9, 2),
    achieved_gflops: round(flops / 1e9 / (median(times) / 1000), 1),
    loss_first: lossFirst,
    loss_last: lossLast,
    profile,
  };
  dispose();
  return result;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
