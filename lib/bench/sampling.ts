// Sampling speed: images per second of `generate` (the sampler every evaluation runs) for the quickstart
// model, with its guidance (autoguidance, w = 3: two evaluations of the flow per step) and without. The weights are the untrained init: what
// an image costs does not depend on their values, so the benchmark needs no trained run.
import * as tf from '@tensorflow/tfjs';
import { generateShapes } from '../data/shapes/index';
import { buildModels } from '../models/crossflow';
import { quickstartConfig } from '../notebooks/quickstart';
import { generate, LoadedRun } from '../sampling/generate';
import { loadTextEncoder } from '../text/registry';
import { loadOrTrainAutoencoder } from '../trainingData/latents';

export interface SamplingBenchOptions {
  images: number;
  /** Euler steps per image. */
  steps: number;
  batch: number;
}

export interface SamplingBenchResult {
  workload: 'sampling';
  backend: string;
  model: string;
  images: number;
  steps: number;
  batch: number;
  guided: { seconds: number; images_per_second: number; guidance: string; cfg: number };
  unguided: { seconds: number; images_per_second: number };
}

/** A run of the quickstart config with freshly initialised weights, loaded as `loadRun` would. */
async function untrainedQuickstartRun(): Promise<LoadedRun> {
  const config = quickstartConfig('small', []);
  const autoencoder = await loadOrTrainAutoencoder({ ...config.autoencoder }, 0, config.data.imageSize);
  const text = await loadTextEncoder(config.text.encoder);
  const models = buildModels(config, { size: config.data.imageSize / 4, channels: config.autoencoder.latentChannels }, { tokens: text.maxTokens, dim: text.dim });
  // Autoguidance's under-trained model: any weights of the flow's shapes cost the same.
  const bad = config.guidance.mode === 'autoguidance'
    ? new Map([...models.params.vars].filter(([n]) => n.startsWith('flow.')).map(([n, v]) => [n, v.clone() as tf.Tensor]))
    : null;
  return {
    dir: '(untrained quickstart model)', config, step: 0, models, text, autoencoder, bad,
    dispose: () => {
      models.dispose();
      text.dispose();
      autoencoder.ae.params.dispose();
      if (bad) tf.dispose([...bad.values()]);
    },
  };
}

export async function runSamplingBench(opts: SamplingBenchOptions): Promise<SamplingBenchResult> {
  const run = await untrainedQuickstartRun();
  try {
    const prompts = generateShapes({ split: 'test', count: opts.images, seed: 1, size: run.config.data.imageSize }).map((s) => s.captions[0]);
    const time = (cfg: number) => {
      generate(run, prompts.slice(0, Math.min(opts.batch, prompts.length)), { cfg, steps: 2, seed: 1 }, opts.batch); // warm-up
      const t0 = process.hrtime.bigint();
      generate(run, prompts, { cfg, steps: opts.steps, seed: 0 }, opts.batch);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      return { seconds: Math.round(seconds * 1000) / 1000, images_per_second: Math.round((prompts.length / seconds) * 100) / 100 };
    };
    const cfg = run.config.guidance.scale;
    const guided = { ...time(cfg), guidance: run.config.guidance.mode, cfg };
    const unguided = time(1);
    return { workload: 'sampling', backend: tf.getBackend(), model: `small + quickstart recipe (${run.config.guidance.mode} guidance)`, images: prompts.length, steps: opts.steps, batch: opts.batch, guided, unguided };
  } finally {
    run.dispose();
  }
}
