// `bench gemms` records the step's sgemm calls by shape: checked against products whose calls are known,
// and the ref-dit step's products against its FLOP count by hand; the floor report's arithmetic on
// synthetic rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { loadBlas } from '../../lib/backend/native/blas';
import { fusedAddon } from '../../lib/backend/native/register';
import { isReduction, recordSgemm, runGemmsBench } from '../../lib/bench/gemms';
import { gemmFloorMarkdown, summarizeGemmFloor, TorchRound } from '../../lib/bench/gemmFloor';
import { REF_DIT_CONFIG, refDitForwardFlops } from '../../lib/bench/refDit';

test('recordSgemm names each call by shape and transposes, and the products stay right', async () => {
  await initBackend('native');
  const { blas } = loadBlas();
  const original = blas.sgemm;
  const a = tf.tensor2d([[1, 2], [3, 4], [5, 6]]); // (3, 2)
  const b = tf.tensor2d([[1, 0, 2, 1], [0, 1, 1, 3]]); // (2, 4)
  let c: number[][] = [];
  const tallies = recordSgemm(blas, () => {
    const y = tf.matMul(a, b); // one (3, 4, 2) product
    c = y.arraySync() as number[][];
    y.dispose();
    const batched = tf.stack([a, a]) as tf.Tensor3D; // (2, 3, 2) x (2, 4): b shared, batches folded into rows
    tf.matMul(batched, b).dispose();
    const bt = tf.matMul(a, b.transpose(), false, true); // transposeB: (3, 2) x (4, 2)^T
    bt.dispose();
    tf.matMul(batched, tf.stack([b, b]) as tf.Tensor3D).dispose(); // both batched: one call per batch
    batched.dispose();
  });
  assert.deepEqual(c, [[1, 2, 4, 7], [3, 4, 10, 15], [5, 6, 16, 23]]);
  const got = Object.fromEntries([...tallies.entries()].map(([k, t]) => [k, t.calls]));
  assert.deepEqual(got, { 'NN 3x4x2': 3, 'NN 6x4x2': 1, 'NT 3x4x2': 1 });
  for (const t of tallies.values()) assert.ok(t.ms >= 0);
  assert.equal(blas.sgemm, original, 'the original sgemm is back');
  assert.throws(() => recordSgemm(blas, () => { throw new Error('inside'); }), /inside/);
  assert.equal(blas.sgemm, original, 'restored after a throw too');
  tf.dispose([a, b]);
});

test('the ref-dit step records exactly its layers\' products: 3x the forward FLOPs less attention', async () => {
  await initBackend('native');
  const before = tf.memory().numTensors;
  const batch = 2;
  const r = await runGemmsBench({ batch, steps: 2, warmup: 1 });
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  // Forward, and two products per forward product in the backward pass; the attention's per-head products
  // run inside the fused C kernel, so they are not among the recorded calls.
  const { width: D, depth, heads } = REF_DIT_CONFIG;
  const T = REF_DIT_CONFIG.latentSize ** 2 + 1;
  const attention = 2 * batch * depth * 2 * heads * T * T * (D / heads);
  const products = r.shapes.filter((s) => !isReduction(s));
  const flops = products.reduce((s, x) => s + x.calls * 2 * x.m * x.n * x.k, 0);
  // (Without the addon, CROSSFLOW_FUSED=0 or not built, attention is composed of tf ops and its products are recorded too.)
  const forward = refDitForwardFlops(REF_DIT_CONFIG, batch) - (fusedAddon.addon ? attention : 0);
  assert.equal(flops, 3 * forward);
  for (const s of r.shapes) assert.ok(Number.isInteger(s.calls), `${s.m}x${s.n}x${s.k}: ${s.calls} calls a step`);
  // the bias-gradient sums: one per Linear bias of each block (qkv, proj, fc1, fc2, adaLN) at least
  const sums = r.shapes.filter(isReduction).reduce((s, x) => s + x.calls, 0);
  assert.ok(sums >= depth * 5, `${sums} one-row sums`);
  const inStep = products.reduce((s, x) => s + x.calls * x.in_step_ms, 0);
  assert.ok(Math.abs(r.gemm_in_step_ms - inStep) < 0.01);
  assert.ok(r.gemm_in_step_ms < r.step_ms_median * 1.01, 'the products are part of the step');
});

const torchRound = (step: number, mm: number, addmm: number, bmm: number, alone: number): TorchRound => ({
  version: '2.13.0+cpu', threads: 2, step_ms_median: step, gemm_alone_ms: alone,
  gemm_in_step_by_op_ms: { 'aten::mm': mm, 'aten::addmm': addmm, 'aten::bmm': bmm },
});

test('the floor summary: medians over rounds, the budget the target leaves, and the gap split', () => {
  const ours = [
    { step_ms_median: 420, gemm_in_step_ms: 260, gemm_alone_ms: 220 },
    { step_ms_median: 440, gemm_in_step_ms: 270, gemm_alone_ms: 230 },
    { step_ms_median: 400, gemm_in_step_ms: 250, gemm_alone_ms: 210 },
  ];
  const torch = [torchRound(360, 140, 70, 20, 195), torchRound(340, 135, 65, 20, 190), torchRound(380, 150, 70, 20, 200)];
  const s = summarizeGemmFloor(ours, torch);
  assert.deepEqual(s.ours, { step_ms: 420, gemm_in_step_ms: 260, gemm_alone_ms: 220, rest_ms: 160 });
  // PyTorch's products are mm + addmm (bmm, the attention, is with the rest, as ours is): 210, 200, 220
  assert.deepEqual(s.torch, { step_ms: 360, gemm_in_step_ms: 210, gemm_alone_ms: 195, rest_ms: 150 });
  assert.equal(s.ratio_to_torch, 1.167);
  assert.equal(s.target_ms, 306); // 0.85 * 360
  assert.equal(s.budget_for_rest_ms, 86); // 306 - 220
  assert.equal(s.budget_over_our_rest, 0.538); // 86 / 160
  assert.equal(s.budget_over_torch_rest, 0.573); // 86 / 150
  // gap 60 = floor 25 + in-step excess (40 - 15 = 25) + rest 10
  assert.deepEqual(s.gap_ms, { total: 60, blas_floor: 25, in_step_excess: 25, rest: 10 });
  const md = gemmFloorMarkdown(s, 'bash scripts/bench-gemm-floor.sh 3', '2026-12-02T00:00:00.000Z');
  assert.match(md, /\*\*1\.167x\*\*/);
  assert.match(md, /\| whole step \| 420\.0 \| 360\.0 \| 60\.0 \|/);
  assert.match(md, /is 306\.0 ms.*\(220\.0 ms\), that leaves 86\.0 ms.*54% of what the rest costs us now, and 57% of what it costs PyTorch/s);
  assert.throws(() => summarizeGemmFloor([], torch), /at least one round/);
});

test('crossflow bench gemms names the one backend it runs on', () => {
  const cli = path.join(__dirname, '..', '..', 'bin', 'crossflow.js');
  const r = spawnSync(process.execPath, [cli, 'bench', 'gemms', '--backend', 'cpu'], { encoding: 'utf8', timeout: 120_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /invalid --backend: "cpu"; allowed: native \(the gemms benchmark records OpenBLAS calls\)/);
});
