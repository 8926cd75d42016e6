// Training-side reading of the config (its schema, defaults and --set overrides are in lib/config/):
// the checks that combine fields, the phases a strategy trains in, and the learning rate of a step.
import { invalidValue } from '../errors';
import { checkFields } from '../config/overrides';
import type { TrainConfig } from '../config/schema';
import { scheduledLr } from '../optim/schedule';
import { checkKindWeights } from '../data/shapes/generate';

/** Validates every field and the combinations between them. */
export function validateConfig(c: TrainConfig): void {
  checkFields(c);
  if (c.model.posEmbed === 'sincos' && c.model.width % 4 !== 0) throw invalidValue('model.width', c.model.width, "a multiple of 4 with model.posEmbed=sincos (or model.posEmbed=learned)");
  if (c.model.width % c.model.heads !== 0) throw invalidValue('model.heads', c.model.heads, `a divisor of model.width (${c.model.width})`);
  if (c.family === 'baseline') {
    if (c.guidance.mode === 'indicator') throw invalidValue('guidance.mode', c.guidance.mode, 'none, cfg, autoguidance for the baseline family (it has a caption to drop)');
    if (c.strategy !== 'joint') throw invalidValue('strategy', c.strategy, 'joint for the baseline family (it has no Text VE)');
  } else {
    if (c.guidance.mode === 'cfg') throw invalidValue('guidance.mode', c.guidance.mode, 'none, indicator, autoguidance for the crossflow family (classic CFG needs a caption input; use indicator)');
    if (c.ve.width % c.ve.heads !== 0) throw invalidValue('ve.heads', c.ve.heads, `a divisor of ve.width (${c.ve.width})`);
    if (c.ve.width % 2 ** c.ve.reductions !== 0) throw invalidValue('ve.reductions', c.ve.reductions, `such that ve.width (${c.ve.width}) divides by 2^reductions`);
    if (c.strategy !== 'joint') {
      if (c.enc.kind === 'none') throw invalidValue('enc.kind', c.enc.kind, `tt-recon, tt-contrast, it-contrast with strategy ${c.strategy} (the VE's first stage trains on L_enc + KL)`);
      if (c.stage1Steps < 1) throw invalidValue('stage1Steps', c.stage1Steps, `an integer >= 1 with strategy ${c.strategy}`);
    }
  }
  // The bad model is snapshotted when the run passes guidance.badStep: one at or past the end is never written.
  if (c.guidance.mode === 'autoguidance' && c.guidance.badStep >= totalSteps(c))
    throw invalidValue('guidance.badStep', c.guidance.badStep, `an integer below the run's ${totalSteps(c)} steps (0: a tenth of them)`);
  const keep = c.log.keepSteps;
  if (keep && keep[keep.length - 1] > totalSteps(c))
    throw invalidValue('log.keepSteps', keep.join(','), `steps within the run's ${totalSteps(c)} (a kept checkpoint past the end is never written)`);
  checkKindWeights(c.data.mix, 'data.mix');
  if (c.data.trainCount < c.batchSize) throw invalidValue('data.trainCount', c.data.trainCount, `at least batchSize (${c.batchSize})`);
}

export interface Phase {
  name: 've' | 'flow' | 'joint';
  /** Global step range [start, end). */
  start: number;
  end: number;
}

/** The phases of a strategy over global steps. */
export function phasesOf(c: TrainConfig): Phase[] {
  if (c.family === 'baseline' || c.strategy === 'joint') return [{ name: 'joint', start: 0, end: c.steps }];
  const s1 = c.stage1Steps;
  if (c.strategy === 'two-stage') return [{ name: 've', start: 0, end: s1 }, { name: 'flow', start: s1, end: s1 + c.steps }];
  const ft = Math.round(c.steps * c.finetuneFraction);
  return [
    { name: 've', start: 0, end: s1 },
    { name: 'flow', start: s1, end: s1 + c.steps - ft },
    { name: 'joint', start: s1 + c.steps - ft, end: s1 + c.steps },
  ].filter((p) => p.end > p.start) as Phase[];
}

export function totalSteps(c: TrainConfig): number {
  const ph = phasesOf(c);
  return ph[ph.length - 1].end;
}

/** Linear warm-up to optim.lr, then optim.schedule over the run's global steps. */
export function learningRate(c: TrainConfig, step: number): number {
  return scheduledLr(c.optim, step, totalSteps(c));
}
