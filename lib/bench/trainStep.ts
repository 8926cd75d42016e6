// One training step of a config, as a workload the backend selector and `crossflow bench presets` can time:
// the models, text encoder and optimiser of the run, fed synthetic latents of the run's shape (the
// autoencoder is not needed to know what a step costs) and real Shapes captions. The step is the
// trainer's (lib/train/trainer.ts): draw the batch, loss and gradients, gradient norm, read the losses,
// AdamW, EMA.
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import type { BackendWorkload, WorkloadSession } from '../backend/select';
import type { TrainConfig } from '../config/schema';
import { generateShapes } from '../data/shapes/index';
import { makeRng } from '../data/rng';
import { buildModels } from '../models/crossflow';
import { AdamW } from '../optim/adamw';
import { loadTextEncoder } from '../text/registry';
import { learningRate, phasesOf } from '../train/config';
import { Ema } from '../train/ema';
import { drawStep, lossTerms } from '../train/objective';

/** The fields that decide what one step costs (not seeds, step counts, logging or learning rates). */
export function stepShape(c: TrainConfig): Record<string, unknown> {
  const phase = longestPhase(c);
  return {
    family: c.family, model: c.model, ve: c.family === 'crossflow' ? c.ve : null, enc: c.enc, text: c.text.encoder,
    guidance: c.guidance.mode, flow: c.flow, batchSize: c.batchSize, imageSize: c.data.imageSize,
    latentChannels: c.autoencoder.latentChannels, phase,
  };
}

/** The phase most of a run's steps are in ('joint' for most configs). */
function longestPhase(c: TrainConfig): 've' | 'flow' | 'joint' {
  return phasesOf(c).reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a)).name;
}

/** The cache key of a config's step: preset name (for reading) and a hash of its step shape. */
export function trainStepKey(c: TrainConfig): string {
  const hash = crypto.createHash('sha256').update(JSON.stringify(stepShape(c))).digest('hex').slice(0, 12);
  return `train-step:${c.preset}:${hash}`;
}

export function trainStepWorkload(c: TrainConfig, label = `${c.preset} training step (batch ${c.batchSize})`): BackendWorkload {
  return { key: trainStepKey(c), label, prepare: () => prepareTrainStep(c) };
}

/** Builds the run's models on the active backend; each step() is one training step. */
export async function prepareTrainStep(c: TrainConfig): Promise<WorkloadSession> {
  const L = c.data.imageSize / 4; // the autoencoder downsamples by 4
  const C = c.autoencoder.latentChannels;
  const count = Math.max(64, c.batchSize);
  const rng = makeRng(`bench-latents:${count}`);
  const samples = generateShapes({ split: 'train', count, seed: 0, size: c.data.imageSize });
  const data: Parameters<typeof lossTerms>[2] = {
    latents: Float32Array.from({ length: count * L * L * C }, () => rng.normal()),
    captions: samples.map((s) => s.captions),
    count,
    latentSize: L,
    latentChannels: C,
  };
  const text = await loadTextEncoder(c.text.encoder);
  const models = buildModels(c, { size: L, channels: C }, { tokens: text.maxTokens, dim: text.dim });
  const opt = new AdamW({ lr: c.optim.lr, beta1: c.optim.beta1, beta2: c.optim.beta2, eps: c.optim.eps, weightDecay: c.optim.weightDecay });
  const phase = longestPhase(c);
  const vars = models.varsOf(phase === 'joint' ? 'all' : phase);
  const all = models.params.list();
  const ema = new Ema(all, c.emaDecay);
  const start = phasesOf(c).find((p) => p.name === phase)!.start;
  let step = start;
  return {
    step() {
      const draw = drawStep(c, data, step);
      const lr = learningRate(c, step);
      step++;
      tf.tidy(() => {
        let terms: ReturnType<typeof lossTerms> | null = null;
        const { value, grads } = tf.variableGrads(() => {
          terms = lossTerms(models, text, data, draw, phase);
          for (const k of [terms.flow, terms.enc, terms.kl]) tf.keep(k);
          return terms.total;
        }, vars);
        const t = terms as unknown as ReturnType<typeof lossTerms>;
        const gradNorm = tf.addN(Object.values(grads).map((g) => g.square().sum())).sqrt();
        tf.stack([value, t.flow, t.enc, t.kl, gradNorm]).dataSync();
        tf.dispose([t.flow, t.enc, t.kl]);
        opt.apply(vars, grads, lr);
      });
      ema.update(all);
    },
    dispose() {
      ema.dispose();
      opt.dispose();
      models.dispose();
      text.dispose();
    },
  };
}
