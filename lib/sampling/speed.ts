// What an image costs to sample: `generate` timed on a model of a given config. The weights are a fresh
// init: the work of a dense network does not depend on their values, so speed needs no trained run
// (and a benchmark of six sizes needs no six trainings).
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../config/schema';
import { buildRun, generate, LoadedRun } from './generate';

/** A run of `config` with freshly initialised weights, shaped as `loadRun` returns it. */
export async function untrainedRun(config: TrainConfig, label = '(untrained model)'): Promise<LoadedRun> {
  const run = await buildRun(label, config, 0);
  // Autoguidance's under-trained model: any weights of the flow's shapes cost the same.
  if (config.guidance.mode === 'autoguidance') {
    run.bad = new Map([...run.models.params.vars].filter(([n]) => n.startsWith('flow.')).map(([n, v]) => [n, v.clone() as tf.Tensor]));
  }
  return run;
}

export interface SamplingTime {
  seconds: number;
  images_per_second: number;
}

/** Wall time of sampling one image per prompt (Euler, `steps`, guidance weight `cfg`), after one untimed warm-up batch. */
export function timeGenerate(run: LoadedRun, prompts: string[], opts: { cfg: number; steps: number; batch: number }): SamplingTime {
  generate(run, prompts.slice(0, Math.min(opts.batch, prompts.length)), { cfg: opts.cfg, steps: 2, seed: 1 }, opts.batch); // warm-up: kernels, caches
  const t0 = process.hrtime.bigint();
  generate(run, prompts, { cfg: opts.cfg, steps: opts.steps, seed: 0 }, opts.batch);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, images_per_second: prompts.length / seconds };
}
