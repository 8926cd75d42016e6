// Sampling from a trained run: load its config, EMA weights, text encoder and autoencoder, encode the
// prompts to z0 (CrossFlow: the sampled Text VE latent; baseline: Gaussian noise), integrate the flow
// (Euler, Heun or midpoint: lib/flow/solver.ts) under the chosen guidance, applied at every evaluation of
// the velocity, and decode to RGB images. Also latent interpolation.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { shapesToTensor } from '../data/shapes/generate';
import { completeConfig } from '../models/presets';
import { CrossflowError, invalidValue } from '../errors';
import { Solver, solve, VelocityField } from '../flow/solver';
import { guide, guideDoubled } from '../guidance/combine';
import type { GuidanceMode } from '../config/choices';
import { buildModels, indicatorGuided, Models, sourceLatent } from '../models/crossflow';
import type { TextEncoder } from '../text/encoder';
import { loadTextEncoder } from '../text/registry';
import type { TrainConfig } from '../config/schema';
import { normals } from '../data/rng';
import { yieldToEventLoop } from '../eventLoop';
import { assignFrom, CheckpointFile, readCheckpoint } from '../nn/checkpoint';
import { CheckpointMeta, checkpointPath, keptCheckpointPath, keptSteps } from '../train/trainer';
import { loadOrTrainAutoencoder, TrainedAutoencoder } from '../trainingData/latents';

export interface LoadedRun {
  dir: string;
  config: TrainConfig;
  step: number;
  models: Models;
  text: TextEncoder;
  autoencoder: TrainedAutoencoder;
  /** Under-trained weights for autoguidance (from bad.ckpt), if the run saved them (and, loading a kept step, before it). */
  bad: Map<string, tf.Tensor> | null;
  dispose(): void;
}

/** The checkpoint file of `step` (kept by log.keepSteps; the last checkpoint when it is at that step). */
function checkpointOfStep(dir: string, step: number): string {
  const kept = keptCheckpointPath(dir, step);
  if (fs.existsSync(kept)) return kept;
  const last = checkpointPath(dir);
  if (fs.existsSync(last) && readCheckpoint<CheckpointMeta>(last).meta.step === step) return last;
  const have = keptSteps(dir);
  throw invalidValue('step', step, have.length ? `a kept step of ${dir}: ${have.join(', ')}` : `none: ${dir} kept no checkpoints along training (train with --set log.keepSteps=...)`);
}

/**
 * Loads a run directory with EMA weights in place of the raw ones: its last checkpoint, or with `step` the
 * checkpoint kept at that step (log.keepSteps).
 */
export async function loadRun(dir: string, opts: { ema?: boolean; step?: number } = {}): Promise<LoadedRun> {
  const file = opts.step === undefined ? checkpointPath(dir) : checkpointOfStep(dir, opts.step);
  if (!fs.existsSync(file)) throw new CrossflowError(`--run ${dir} has no checkpoint.ckpt; train one with: npx crossflow train --preset small --out ${dir}`);
  const ck = readCheckpoint<CheckpointMeta>(file);
  const config = completeConfig(ck.meta.config);
  const run = await buildRun(dir, config, ck.meta.step);
  try {
    const useEma = opts.ema ?? true;
    assignFrom(ck as CheckpointFile<unknown>, [...run.models.params.vars].map(([n, v]) => [useEma ? `ema/${n}` : n, v]), file);
    const badFile = path.join(dir, 'bad.ckpt');
    if (fs.existsSync(badFile)) {
      const b = readCheckpoint<CheckpointMeta>(badFile);
      // The under-trained model must be from before the weights loaded: a kept step at or before it has none.
      if (b.meta.step < ck.meta.step) run.bad = new Map([...b.tensors].map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
    }
  } catch (err) {
    run.dispose();
    throw err;
  }
  return run;
}

/**
 * A run of `config` with freshly initialised weights and no under-trained model: the autoencoder, text
 * encoder and models that `loadRun` then fills from a checkpoint (and `untrainedRun` times as they are).
 * Its dispose also frees whatever `bad` holds when it is called.
 */
export async function buildRun(dir: string, config: TrainConfig, step: number): Promise<LoadedRun> {
  const autoencoder = await loadOrTrainAutoencoder({ ...config.autoencoder }, 0, config.data.imageSize);
  const text = await loadTextEncoder(config.text.encoder);
  const models = buildModels(config, { size: config.data.imageSize / 4, channels: config.autoencoder.latentChannels }, { tokens: text.maxTokens, dim: text.dim });
  const run: LoadedRun = {
    dir, config, step, models, text, autoencoder, bad: null,
    dispose: () => {
      models.dispose();
      text.dispose();
      autoencoder.ae.params.dispose();
      if (run.bad) tf.dispose([...run.bad.values()]);
    },
  };
  return run;
}

export interface SampleOptions {
  /** Guidance weight w (1 = no guidance). Default: the run's guidance.scale. */
  cfg?: number;
  /** Solver steps (Heun and midpoint evaluate the velocity twice a step). Default: the run's sample.steps. */
  steps?: number;
  /** The ODE solver (default euler). Guidance applies at every evaluation of the velocity. */
  solver?: Solver;
  seed?: number;
  /** Override the guidance used at sampling ('none' disables it). */
  guidance?: GuidanceMode;
  /**
   * Guide only while t is in [lo, hi) and use the plain conditional velocity elsewhere
   * (Kynkaanniemi et al. 2024, guidance in a limited interval). Default [0, 1]: everywhere.
   */
  guidanceInterval?: [number, number];
  /**
   * Start the flow at t from z_t = (1 - t) z0 + t z1 with z1 the latents of given images (one per prompt)
   * instead of at 0 from z0: how much of a real image the flow keeps tells where along the path it fails.
   * `steps` Euler steps then cover [t, 1].
   */
  start?: { t: number; images: ReadonlyArray<{ rgb: Uint8ClampedArray; width: number; height: number }> };
}

export interface GeneratedImages {
  /** (B, H, W, 3) RGB bytes per image. */
  images: Array<{ rgb: Uint8ClampedArray; width: number; height: number }>;
  guidance: GuidanceMode;
  cfg: number;
  steps: number;
  solver: Solver;
}

/** z0 (B, L, L, C) for prompts: sampled VE latents (CrossFlow) or N(0, I) (baseline), from `seed`. */
export function sourceLatents(run: LoadedRun, prompts: string[], seed: number): tf.Tensor4D {
  const c = run.config;
  const L = c.data.imageSize / 4;
  const C = c.autoencoder.latentChannels;
  const eps = tf.tensor4d(normals(`sample:${seed}`, prompts.length * L * L * C), [prompts.length, L, L, C]);
  if (c.family === 'baseline') return eps;
  const z0 = tf.tidy(() => {
    const { tokens, mask } = run.text.encode(prompts);
    return sourceLatent(run.models.ve!, tokens, mask, eps);
  });
  eps.dispose();
  return z0;
}

function guidanceOf(run: LoadedRun, opts: SampleOptions): { mode: GuidanceMode; w: number } {
  const trained = run.config.guidance.mode;
  let mode = opts.guidance ?? trained;
  const w = opts.cfg ?? run.config.guidance.scale;
  if (mode !== 'none' && mode !== trained) throw invalidValue('guidance', mode, `none or ${trained} (what this run was trained for)`);
  if (w === 1) mode = 'none';
  if (mode === 'autoguidance' && !run.bad) throw new CrossflowError(`${run.dir} has no bad.ckpt (the under-trained model autoguidance needs)`);
  return { mode, w };
}

/** Scaled autoencoder latents (B, L, L, C) of RGB images: the z1 the flow was trained to reach. */
export function imageLatents(run: LoadedRun, images: ReadonlyArray<{ rgb: Uint8ClampedArray; width: number; height: number }>): tf.Tensor4D {
  const { ae, meta } = run.autoencoder;
  return tf.tidy(() => ae.encode(shapesToTensor(images)).mu.mul(meta.scale) as tf.Tensor4D);
}

function checkedInterval(opts: SampleOptions): [number, number] {
  const iv = opts.guidanceInterval ?? [0, 1];
  const [lo, hi] = iv;
  if (!(iv.length === 2 && lo >= 0 && lo < hi && hi <= 1)) throw invalidValue('guidanceInterval', JSON.stringify(iv), 'two numbers lo < hi within [0, 1]');
  return [lo, hi];
}

/**
 * Integrates from given latents at opts.start.t (default 0: the source z0) and decodes. With
 * opts.start, `z` is the state at that t (generate() mixes it from z0 and the images' latents).
 */
export function generateFrom(run: LoadedRun, z0: tf.Tensor4D, prompts: string[], opts: SampleOptions = {}): GeneratedImages {
  const c = run.config;
  const { mode, w } = guidanceOf(run, opts);
  const [lo, hi] = checkedInterval(opts);
  const tStart = opts.start?.t ?? 0;
  if (!(tStart >= 0 && tStart < 1)) throw invalidValue('start.t', tStart, 'a number in [0, 1)');
  const steps = opts.steps ?? c.sample.steps;
  const B = z0.shape[0];
  const flow = run.models.flow;
  const flowVars = [...run.models.params.vars].filter(([n]) => n.startsWith('flow.')); // named as in bad.ckpt
  const ones = tf.ones([B], 'int32') as tf.Tensor1D;
  const both = tf.tidy(() => tf.concat([tf.ones([B], 'int32'), tf.zeros([B], 'int32')]) as tf.Tensor1D); // [cond; uncond]
  const ctx = c.family === 'baseline' ? run.text.encode(prompts) : null;
  const ctxBoth = c.family === 'baseline' && mode === 'cfg' ? run.text.encode([...prompts, ...prompts.map(() => '')]) : null;
  const indicatorOn = c.guidance.mode === 'indicator';
  const swapBad = () => {
    for (const [n, v] of flowVars) {
      const b = run.bad!.get(n)!;
      const live = tf.keep(v.clone()); // runs inside the solver's tidy: keep the swapped-out weights
      v.assign(b);
      run.bad!.set(n, live);
      b.dispose();
    }
  };
  const single = (z4: tf.Tensor4D, t: tf.Tensor1D) => flow.apply(z4, t, indicatorOn ? ones : null, ctx ?? undefined);
  // Guided for t in [lo, hi), and at t = 1 itself when hi = 1 (Heun's last evaluation is at t = 1).
  const guided = (time: number) => time >= lo && (time < hi || (hi === 1 && time === 1));
  const field: VelocityField = (z, t, time) => {
    const z4 = z as tf.Tensor4D;
    if (!guided(time)) return single(z4, t); // unguided here
    if (mode === 'indicator') return indicatorGuided(flow, z4, t, both, w); // CrossFlow's CFG indicator
    if (mode === 'cfg') {
      // The baseline's classifier-free guidance: one doubled batch [caption; null caption].
      const vBoth = flow.apply(tf.concat([z4, z4]), tf.concat([t, t]), null, ctxBoth ?? undefined);
      return guideDoubled(vBoth, w);
    }
    const vGood = single(z4, t);
    if (mode !== 'autoguidance') return vGood;
    swapBad();
    const vBad = single(z4, t);
    swapBad();
    return guide(vGood, vBad, w);
  };
  const solver = opts.solver ?? 'euler';
  const z1 = solve(solver, field, z0, { steps, t0: tStart });
  const { ae, meta } = run.autoencoder;
  const pixels = tf.tidy(() => ae.decode(z1.div(meta.scale) as tf.Tensor4D).clipByValue(0, 1).mul(255).round());
  const data = pixels.dataSync();
  const [, H, W] = pixels.shape;
  const images = Array.from({ length: B }, (_, b) => ({ rgb: Uint8ClampedArray.from(data.subarray(b * H * W * 3, (b + 1) * H * W * 3)), width: W, height: H }));
  tf.dispose([z1, pixels, ones, both]);
  if (ctx) tf.dispose([ctx.tokens, ctx.mask]);
  if (ctxBoth) tf.dispose([ctxBoth.tokens, ctxBoth.mask]);
  return { images, guidance: mode, cfg: w, steps, solver };
}

/** The batches of `generate`, one at a time: each `next()` samples the next batch of prompts. */
function* generateBatches(run: LoadedRun, prompts: string[], opts: SampleOptions, batch: number): Generator<void, GeneratedImages> {
  const seed = opts.seed ?? 0;
  if (opts.start && opts.start.images.length !== prompts.length) throw invalidValue('start.images', `${opts.start.images.length} images`, `one per prompt (${prompts.length})`);
  let out: GeneratedImages | null = null;
  for (let i = 0; i < prompts.length; i += batch) {
    const chunk = prompts.slice(i, i + batch);
    let z0 = sourceLatents(run, chunk, seed * 100003 + i);
    if (opts.start) {
      const { t, images } = opts.start;
      const z1 = imageLatents(run, images.slice(i, i + batch));
      const zt = tf.tidy(() => z0.mul(1 - t).add(z1.mul(t)) as tf.Tensor4D); // the path's point at t
      tf.dispose([z0, z1]);
      z0 = zt;
    }
    const g = generateFrom(run, z0, chunk, opts);
    z0.dispose();
    if (!out) out = g;
    else out.images.push(...g.images);
    if (i + batch < prompts.length) yield;
  }
  if (!out) throw invalidValue('prompts', '[]', 'at least one prompt');
  return out;
}

/** Samples one image per prompt, in batches. */
export function generate(run: LoadedRun, prompts: string[], opts: SampleOptions = {}, batch = 64): GeneratedImages {
  const batches = generateBatches(run, prompts, opts, batch);
  for (;;) {
    const r = batches.next();
    if (r.done) return r.value;
  }
}

/**
 * `generate`, letting the event loop run between batches (the same images): long evaluations inside a
 * run-directory lock must let its refresh timer run (lib/experiments/lock.ts), and a tslab kernel its I/O.
 */
export async function generateYielding(run: LoadedRun, prompts: string[], opts: SampleOptions = {}, batch = 64): Promise<GeneratedImages> {
  const batches = generateBatches(run, prompts, opts, batch);
  for (;;) {
    const r = batches.next();
    if (r.done) return r.value;
    await yieldToEventLoop();
  }
}

/** Interpolation between two prompts' sampled latents: z_a + (z_b - z_a) i / (n + 1), i = 0..n+1, no renormalisation. */
export function interpolate(run: LoadedRun, a: string, b: string, n: number, opts: SampleOptions = {}): GeneratedImages {
  if (run.config.family !== 'crossflow') throw invalidValue('run family', run.config.family, 'crossflow (interpolation acts on Text VE latents)');
  const z = sourceLatents(run, [a, b], opts.seed ?? 0);
  const zs = tf.tidy(() => {
    const [za, zb] = tf.split(z, 2);
    const rows = Array.from({ length: n + 2 }, (_, i) => za.add(zb.sub(za).mul(i / (n + 1))));
    return tf.concat(rows) as tf.Tensor4D;
  });
  const prompts = Array.from({ length: n + 2 }, (_, i) => (i < (n + 2) / 2 ? a : b));
  const g = generateFrom(run, zs, prompts, opts);
  tf.dispose([z, zs]);
  return g;
}
