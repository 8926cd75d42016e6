// Sampling speed: images per second of `generate` (the sampler every evaluation runs) for the quickstart
// model, with its guidance (autoguidance, w = 3: two evaluations of the flow per step) and without, on an
// untrained model of its config (lib/sampling/speed.ts).
import * as tf from '@tensorflow/tfjs';
import { generateShapes } from '../data/shapes/index';
import { quickstartConfig } from '../notebooks/quickstart';
import { timeGenerate, untrainedRun } from '../sampling/speed';

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

export async function runSamplingBench(opts: SamplingBenchOptions): Promise<SamplingBenchResult> {
  const run = await untrainedRun(quickstartConfig('small', []), '(untrained quickstart model)');
  try {
    const prompts = generateShapes({ split: 'test', count: opts.images, seed: 1, size: run.config.data.imageSize }).map((s) => s.captions[0]);
    const time = (cfg: number) => {
      const t = timeGenerate(run, prompts, { cfg, steps: opts.steps, batch: opts.batch });
      return { seconds: Math.round(t.seconds * 1000) / 1000, images_per_second: Math.round(t.images_per_second * 100) / 100 };
    };
    const cfg = run.config.guidance.scale;
    const guided = { ...time(cfg), guidance: run.config.guidance.mode, cfg };
    const unguided = time(1);
    return { workload: 'sampling', backend: tf.getBackend(), model: `small + quickstart recipe (${run.config.guidance.mode} guidance)`, images: prompts.length, steps: opts.steps, batch: opts.batch, guided, unguided };
  } finally {
    run.dispose();
  }
}
