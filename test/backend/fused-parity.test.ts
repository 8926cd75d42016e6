// The fused kernels of the C addon (adaLN, gated residual, GELU, self-attention) on `native` against the same layers
// composed of tf ops on `cpu`: values and gradients over random shapes, a whole flow transformer's
// forward and backward, leak checks, and the addon's own checks on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { initBackend } from '../../lib/backend/select';
import { fusedAddon, nativeKernelSources } from '../../lib/backend/native/register';
import { FUSED } from '../../lib/backend/fusedKernels';
import { ADDON_FUNCTIONS, missingAddonFunctions } from '../../lib/backend/native/loadAddon';
import { adaLayerNorm, gatedResidual, gelu } from '../../lib/nn/layers';
import { packedSelfAttention, selfAttention } from '../../lib/nn/attention';
import { ParamStore } from '../../lib/nn/params';
import { flowTransformer } from '../../lib/models/flowTransformer';

const rng = seedrandom('fused-parity');
const randInt = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const randArray = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);

let skip: string | false = false;
test('the addon is built and its kernels are registered on native', async () => {
  await initBackend('native');
  if (!fusedAddon.addon) {
    skip = `the fused-kernel addon is not loaded: ${fusedAddon.reason}`;
    return;
  }
  for (const name of Object.values(FUSED)) assert.equal(nativeKernelSources[name], 'addon', name);
  assert.ok(tf.getKernel(FUSED.adaLN, 'native'));
  assert.equal(tf.getKernel(FUSED.adaLN, 'cpu'), undefined); // cpu composes the same function from tf ops
});

test('a build from older sources is not used: the loader names the functions it lacks', () => {
  const full = Object.fromEntries(ADDON_FUNCTIONS.map((f) => [f, () => 0]));
  assert.deepEqual(missingAddonFunctions(full), []);
  const { adamw: _adamw, attentionBackward: _attentionBackward, ...older } = full;
  assert.deepEqual(missingAddonFunctions(older), ['adamw', 'attentionBackward']);
  if (fusedAddon.addon) assert.deepEqual(missingAddonFunctions(fusedAddon.addon), [], 'the loaded build has every function');
});

interface Values { shape: number[]; values: Float32Array }

/** fn's output and the gradients of sum(output * dy) with respect to each input, on `backend`. */
async function valueAndGrads(backend: string, inputs: Values[], dy: Values, fn: (...xs: tf.Tensor[]) => tf.Tensor): Promise<Values[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const xs = inputs.map((v) => tf.tensor(v.values, v.shape));
    const w = tf.tensor(dy.values, dy.shape);
    const y = fn(...xs);
    const grads = tf.grads((...a: tf.Tensor[]) => fn(...a).mul(w).sum())(xs);
    return [y, ...grads];
  });
  const res = await Promise.all(outs.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })));
  tf.dispose(outs);
  return res;
}

function assertClose(got: Values[], want: Values[], label: string, tol: number): void {
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) {
    assert.deepEqual(got[i].shape, want[i].shape, `${label}: shape of output ${i}`);
    let worst = 0;
    for (let j = 0; j < want[i].values.length; j++) {
      worst = Math.max(worst, Math.abs(got[i].values[j] - want[i].values[j]) / (1 + Math.abs(want[i].values[j])));
    }
    assert.ok(worst <= tol, `${label}: output ${i} (0 = value, then gradients) max relative error ${worst.toExponential(2)} > ${tol}`);
  }
}

async function parity(label: string, inputs: Values[], outShape: number[], fn: (...xs: tf.Tensor[]) => tf.Tensor, tol = 2e-5): Promise<void> {
  const dy = { shape: outShape, values: randArray(outShape.reduce((a, b) => a * b, 1)) };
  const got = await valueAndGrads('native', inputs, dy, fn);
  const want = await valueAndGrads('cpu', inputs, dy, fn);
  assertClose(got, want, label, tol);
}

test('adaLN (LayerNorm + modulation) and its gradients match cpu over random shapes', async (t) => {
  if (skip) return t.skip(skip);
  for (let i = 0; i < 12; i++) {
    const B = randInt(1, 9), T = randInt(1, 70), D = randInt(1, 300);
    const x = { shape: [B, T, D], values: randArray(B * T * D, 3) };
    const shift = { shape: [B, D], values: randArray(B * D) };
    const scale = { shape: [B, D], values: randArray(B * D) };
    await parity(`adaLN ${B}x${T}x${D}`, [x, shift, scale], [B, T, D], (a, s, c) => adaLayerNorm(a as tf.Tensor3D, s as tf.Tensor2D, c as tf.Tensor2D));
  }
});

test('the gated residual x + gate h and its gradients match cpu over random shapes', async (t) => {
  if (skip) return t.skip(skip);
  for (let i = 0; i < 8; i++) {
    const B = randInt(1, 9), T = randInt(1, 70), D = randInt(1, 300);
    const x = { shape: [B, T, D], values: randArray(B * T * D) };
    const gate = { shape: [B, D], values: randArray(B * D) };
    const h = { shape: [B, T, D], values: randArray(B * T * D) };
    await parity(`gated residual ${B}x${T}x${D}`, [x, gate, h], [B, T, D], (a, g, c) => gatedResidual(a as tf.Tensor3D, g as tf.Tensor2D, c as tf.Tensor3D));
  }
});

test('GELU and its gradient match cpu, including large |x| and sizes that split over threads', async (t) => {
  if (skip) return t.skip(skip);
  for (const n of [1, 7, 1000, 40000, 100003]) {
    const x = { shape: [n], values: randArray(n, 8) };
    await parity(`gelu n=${n}`, [x], [n], (a) => gelu(a));
  }
  // Far tails, where an overflowing exp once gave NaN (x <= -20) and cancellation a wrong slope (x = 1e4):
  // enough of them to fill the vectorised loop, not only its scalar remainder.
  const tails = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? 1 : -1) * [20, 30, 50, 87, 90, 100, 1e3, 1e4][i % 8] * (1 + i / 64));
  await parity('gelu far tails', [{ shape: [64], values: tails }], [64], (a) => gelu(a));
});

test('self-attention on packed qkv and its gradient match the composed heads on cpu', async (t) => {
  if (skip) return t.skip(skip);
  for (let i = 0; i < 8; i++) {
    const B = randInt(1, 6), T = randInt(1, 70), heads = randInt(1, 4), dh = randInt(1, 24);
    const D = heads * dh;
    const params = new ParamStore(100 + i);
    const attn = selfAttention(params, 'attn', D, heads);
    // The weights are fixed values so both backends see the same function; gradients flow to x.
    const x = { shape: [B, T, D], values: randArray(B * T * D) };
    await parity(`attention B=${B} T=${T} heads=${heads} dh=${dh}`, [x], [B, T, D], (a) => attn(a as tf.Tensor3D), 5e-5);
    params.dispose();
  }
});

test('masked self-attention (padding keys, a fully padded row) and its gradient match cpu', async (t) => {
  if (skip) return t.skip(skip);
  for (let i = 0; i < 6; i++) {
    const B = randInt(1, 5), T = randInt(2, 40), heads = randInt(1, 4), dh = randInt(1, 16);
    const D = heads * dh;
    const qkv = { shape: [B, T, 3 * D], values: randArray(B * T * 3 * D, i % 2 ? 2 : 12) }; // large logits too
    const mask = Float32Array.from({ length: B * T }, (_, j) => (j % T < 1 + ((j * 7) % T) ? 1 : 0));
    if (i === 0) mask.fill(0, 0, T); // every key of item 0 padded: uniform weights, as composed
    await parity(`masked attention B=${B} T=${T} heads=${heads} dh=${dh}`, [qkv], [B, T, D], (a) => packedSelfAttention(a as tf.Tensor3D, heads, tf.tensor2d(mask, [B, T])), 5e-5);
  }
});

test('a flow transformer forward and backward on native (fused) matches cpu (composed)', async (t) => {
  if (skip) return t.skip(skip);
  const params = new ParamStore(7);
  const config = { latentChannels: 4, latentSize: 8, width: 64, depth: 2, heads: 4, mlpRatio: 4, patchSize: 2, init: 'xavier' as const, indicator: true, contextDim: null };
  const flow = flowTransformer(config, params);
  const B = 5;
  const z = { shape: [B, 8, 8, 4], values: randArray(B * 256) };
  const time = Float32Array.from({ length: B }, () => rng());
  const fn = (zz: tf.Tensor) => flow.apply(zz as tf.Tensor4D, tf.tensor1d(time), tf.tensor1d([1, 0, 1, 1, 0], 'int32'));
  await parity('flow transformer', [z], [B, 8, 8, 4], fn, 1e-4);
  // and the gradients with respect to every weight
  const dy = randArray(B * 256);
  const weightGrads = async (backend: string) => {
    await tf.setBackend(backend);
    const vars = [...params.vars.values()];
    const { grads } = tf.variableGrads(() => fn(tf.tensor(z.values, z.shape)).mul(tf.tensor(dy, z.shape)).sum() as tf.Scalar, vars);
    const out = await Promise.all(Object.keys(grads).sort().map(async (k) => ({ shape: grads[k].shape, values: (await grads[k].data()) as Float32Array })));
    tf.dispose(Object.values(grads));
    return out;
  };
  assertClose(await weightGrads('native'), await weightGrads('cpu'), 'flow transformer weight gradients', 1e-4);
  params.dispose();
});

test('fused kernels leak no tensors over repeated training-style steps', async (t) => {
  if (skip) return t.skip(skip);
  await tf.setBackend('native');
  const params = new ParamStore(8);
  const attn = selfAttention(params, 'attn', 32, 4);
  const x = tf.randomNormal([3, 17, 32]);
  const shift = tf.randomNormal([3, 32]);
  const scale = tf.randomNormal([3, 32]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => gatedResidual(x as tf.Tensor3D, scale as tf.Tensor2D, gelu(attn(adaLayerNorm(x as tf.Tensor3D, shift as tf.Tensor2D, scale as tf.Tensor2D))) as tf.Tensor3D).square().mean() as tf.Scalar);
    value.dispose();
    tf.dispose(Object.values(grads));
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, shift, scale]);
  params.dispose();
});

test('the matrix products keep every OpenBLAS thread: the attention kernels lower the count only while they run', async (t) => {
  if (skip) return t.skip(skip);
  await tf.setBackend('native');
  // as many threads as asked for (OpenBLAS caps the count at its build's maximum), not pinned to one
  const want = fusedAddon.addon!.blasThreads();
  assert.ok(want >= Math.min(2, Number(process.env.OPENBLAS_NUM_THREADS)), `OpenBLAS runs ${want} thread(s) of ${process.env.OPENBLAS_NUM_THREADS} asked for`);
  const params = new ParamStore(9);
  const attn = selfAttention(params, 'attn', 16, 2);
  tf.tidy(() => tf.grad((x: tf.Tensor) => attn(x as tf.Tensor3D).sum())(tf.randomNormal([4, 9, 16])));
  assert.equal(fusedAddon.addon!.blasThreads(), want);
  params.dispose();
});

test('AdamW in the addon equals the TypeScript loop it replaces, bit for bit, over sizes that split over threads', async (t) => {
  if (skip) return t.skip(skip);
  const addon = fusedAddon.addon!;
  for (const n of [1, 5, 32768, 100003]) {
    const p = randArray(n, 2), g = randArray(n), m = randArray(n, 0.1), v = Float32Array.from(randArray(n, 0.01), Math.abs);
    const s = { lr: 0.003, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.03, bc1: 1 - 0.9 ** 7, bc2: 1 - 0.95 ** 7 };
    const [P, M, V] = [Float32Array.from(p), Float32Array.from(m), Float32Array.from(v)];
    for (let i = 0; i < n; i++) { // lib/backend/native/adamw.ts's loop
      const mi = s.beta1 * M[i] + (1 - s.beta1) * g[i];
      const vi = s.beta2 * V[i] + (1 - s.beta2) * g[i] * g[i];
      M[i] = mi;
      V[i] = vi;
      P[i] = P[i] * (1 - s.lr * s.weightDecay) - ((s.lr / s.bc1) * mi) / (Math.sqrt(vi * (1 / s.bc2)) + s.eps);
    }
    addon.adamw(p, g, m, v, s.lr, s.beta1, s.beta2, s.eps, s.weightDecay, s.bc1, s.bc2);
    assert.deepEqual([p, m, v], [P, M, V], `n=${n}`);
  }
});

test('the addon names the argument whose length is wrong, and writes nothing', async (t) => {
  if (skip) return t.skip(skip);
  const addon = fusedAddon.addon!;
  const y = new Float32Array(6).fill(7);
  assert.throws(() => addon.adalnForward(new Float32Array(6), new Float32Array(3), new Float32Array(2), y, new Float32Array(6), new Float32Array(2), 1, 2, 3, 1e-6), /adalnForward: scale has 2 elements, expected 3/);
  assert.deepEqual([...y], [7, 7, 7, 7, 7, 7]);
  assert.throws(() => addon.geluBackward(new Float32Array(4), new Float32Array(4), new Float32Array(3)), /geluBackward: dx has 3 elements, expected 4/);
  assert.throws(() => addon.attentionForward(new Float32Array(12), null, new Float32Array(4), new Float32Array(4), 1, 2, 1, 0), /dh must be a positive integer/);
});
