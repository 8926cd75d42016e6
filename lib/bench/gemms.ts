// `bench gemms`: where the ref-dit step's matrix-product time goes. Every sgemm the step's BatchMatMul and
// _FusedMatMul kernels call is recorded (shape, count, time inside the step); then each shape is timed
// alone in a tight loop on the same OpenBLAS. The sum of the tight-loop times is the step's GEMM floor on
// this BLAS: no amount of work outside the products can bring the step below it. Native backend only (the
// attention's per-head products run inside its fused C kernel and are not counted here). Calls with one
// row, (1, R) x (R, C), are not products but the Sum kernel's bias-gradient sums (lib/backend/native/reduce.ts):
// they are listed, and counted apart from the products (no Linear layer of ref-dit has one row at batch > 1).
import { median } from 'simple-statistics';
import { currentBackend, initBackend } from '../backend/select';
import { Blas, loadBlas, NO_TRANS, TRANS } from '../backend/native/blas';
import { createRefDitStep, round } from './refDit';

/** One product's shape: op(A) is (m, k), op(B) is (k, n), C is (m, n), row-major. */
export interface GemmOp {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

export interface GemmShape extends GemmOp {
  /** Calls per training step. */
  calls: number;
  /** Mean time of one call inside the step, ms. */
  in_step_ms: number;
  /** Median time of one call alone, repeated on the same operands, ms. */
  alone_ms: number;
  alone_gflops: number;
}

export interface GemmsResult {
  workload: 'gemms';
  backend: string;
  blas_threads: number | null;
  batch: number;
  /** Steps whose calls were recorded (after the warm-up); per-step figures are their means. */
  recorded_steps: number;
  step_ms_median: number;
  gflop_per_step: number;
  /** Sum over the step's products (sgemm calls of more than one row) of their time inside the step, ms. */
  gemm_in_step_ms: number;
  /** Sum over the step's products of each shape's time alone: the step's GEMM floor on this BLAS, ms. */
  gemm_alone_ms: number;
  /** The one-row calls (bias-gradient sums) inside the step, ms: part of the rest, not of the products. */
  reductions_in_step_ms: number;
  shapes: GemmShape[];
}

interface Tally extends GemmOp {
  calls: number;
  ms: number;
}

/** A (1, R) x (R, C) call: the Sum kernel's ones-row reduction, not a layer's product. */
export const isReduction = (s: Pick<GemmOp, 'm' | 'transA'>): boolean => s.m === 1 && !s.transA;

const shapeKey = (ta: boolean, tb: boolean, m: number, n: number, k: number): string => `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${m}x${n}x${k}`;

/** Runs `body` with every `blas.sgemm` call counted and timed by shape; restores the method after. */
export function recordSgemm(blas: Blas, body: () => void): Map<string, Tally> {
  const tallies = new Map<string, Tally>();
  const original = blas.sgemm;
  blas.sgemm = (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    const t0 = performance.now();
    original.call(blas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    const ms = performance.now() - t0;
    const key = shapeKey(ta === TRANS, tb === TRANS, m, n, k);
    const t = tallies.get(key) ?? { transA: ta === TRANS, transB: tb === TRANS, m, n, k, calls: 0, ms: 0 };
    t.calls += 1;
    t.ms += ms;
    tallies.set(key, t);
  };
  try {
    body();
  } finally {
    blas.sgemm = original;
  }
  return tallies;
}

/** Median ms of one (m, n, k) product repeated on the same operands (warm caches, threads awake). */
export function timeSgemmAlone(blas: Blas, s: GemmOp, repeats = 9): number {
  const { m, n, k } = s;
  const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const c = new Float32Array(m * n);
  const lda = s.transA ? m : k;
  const ldb = s.transB ? k : n;
  const run = (): void => blas.sgemm(s.transA ? TRANS : NO_TRANS, s.transB ? TRANS : NO_TRANS, m, n, k, 1, a, lda, b, ldb, 0, c, n);
  run();
  run();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** The machine's sgemm ceiling through the same OpenBLAS binding: GFLOP/s of the median n x n x n product. */
export function measureSgemmPeak(n = 1024, repeats = 7): { n: number; gflops_median: number; threads: number } {
  const { blas, threads } = loadBlas();
  const ms = timeSgemmAlone(blas, { transA: false, transB: false, m: n, n, k: n }, repeats);
  return { n, gflops_median: round((2 * n ** 3) / 1e6 / ms, 1), threads };
}

export async function runGemmsBench(opts: { batch?: number; warmup?: number; steps?: number } = {}): Promise<GemmsResult> {
  const report = currentBackend() ?? (await initBackend());
  if (report.backend !== 'native') throw new Error(`bench gemms: backend must be 'native' (it records OpenBLAS calls), got '${report.backend}'`);
  const batch = opts.batch ?? 32;
  const steps = opts.steps ?? 5;
  const { blas } = loadBlas();
  const refDit = createRefDitStep(batch);
  for (let i = 0; i < (opts.warmup ?? 3); i++) refDit.step();
  const stepTimes: number[] = [];
  const tallies = recordSgemm(blas, () => {
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      refDit.step();
      stepTimes.push(performance.now() - t0);
    }
  });
  refDit.dispose();
  const shapes: GemmShape[] = [...tallies.values()]
    .map((t) => {
      const alone = timeSgemmAlone(blas, t);
      return {
        transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k,
        calls: t.calls / steps,
        in_step_ms: round(t.ms / t.calls, 4),
        alone_ms: round(alone, 4),
        alone_gflops: round((2 * t.m * t.n * t.k) / 1e6 / alone, 1),
      };
    })
    .sort((x, y) => y.calls * y.alone_ms - x.calls * x.alone_ms);
  const products = shapes.filter((x) => !isReduction(x));
  const gflop = products.reduce((s, x) => s + (x.calls * 2 * x.m * x.n * x.k) / 1e9, 0);
  return {
    workload: 'gemms',
    backend: report.backend,
    blas_threads: report.blasThreads,
    batch,
    recorded_steps: steps,
    step_ms_median: round(median(stepTimes), 2),
    gflop_per_step: round(gflop, 2),
    gemm_in_step_ms: round(products.reduce((s, x) => s + x.calls * x.in_step_ms, 0), 2),
    gemm_alone_ms: round(products.reduce((s, x) => s + x.calls * x.alone_ms, 0), 2),
    reductions_in_step_ms: round(shapes.filter(isReduction).reduce((s, x) => s + x.calls * x.in_step_ms, 0), 2),
    shapes,
  };
}
