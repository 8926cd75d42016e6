// The training configuration: one plain object, filled from a named preset, then `--set key=value`
// overrides, then validated. Every choice the paper's ablations compare is a field here.
import { CrossflowError, invalidValue } from '../errors';
import { PREDICTIONS, Prediction } from '../flow/parametrisation';
import { GLOBAL_CONDS, GlobalCond } from '../models/flowTransformer';
import { TIME_SAMPLERS, TimeSampler } from '../flow/time';
import { GUIDANCE_MODES, GuidanceMode } from '../guidance/combine';
import { ENC_LOSSES, EncLossKind, IMAGE_ENCODERS, ImageEncoderKind } from '../models/encoderLoss';
import { KL_FORMS, KlForm } from '../models/veLosses';
import { LR_SCHEDULES, LrSchedule, scheduledLr } from '../optim/schedule';
import { checkKindWeights } from '../data/shapes/generate';
import { VE_VARIANTS, VeVariant } from '../models/textVE';

export const FAMILIES = ['crossflow', 'baseline'] as const;
export type Family = (typeof FAMILIES)[number];
export const STRATEGIES = ['joint', 'two-stage', 'two-stage-joint'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const TEXT_ENCODER_NAMES = ['random', 'word2vec', 'lm', 'clip'] as const;
export const INDICATOR_FORMS = ['token', 'label'] as const;

export interface TrainConfig {
  family: Family;
  preset: string;
  seed: number;
  /** Steps of the flow phase (joint training: all steps). */
  steps: number;
  batchSize: number;
  /** joint (paper's final choice) | two-stage (VE first with L_enc + KL, frozen, then flow) | two-stage-joint. */
  strategy: Strategy;
  /** VE pre-training steps of the two-stage strategies (before `steps`). */
  stage1Steps: number;
  /** two-stage-joint: the last fraction of `steps` trains VE and flow jointly. */
  finetuneFraction: number;
  optim: { lr: number; warmupSteps: number; schedule: LrSchedule; minLrFraction: number; beta1: number; beta2: number; weightDecay: number; eps: number };
  /** EMA decay of the weights used for sampling (paper 0.9999 at 300K steps; faster here). */
  emaDecay: number;
  flow: { time: TimeSampler; timeMean: number; timeStd: number; sigmaMin: number };
  model: { patchSize: number; width: number; depth: number; heads: number; mlpRatio: number; init: 'adaln-zero' | 'xavier'; indicatorForm: 'token' | 'label'; posEmbed: 'learned' | 'sincos'; globalCond: GlobalCond; predict: Prediction };
  ve: { width: number; layers: number; heads: number; ffn: number; dropout: number; reductions: number; variant: VeVariant; noiseStd: number };
  kl: { form: KlForm; weight: number };
  /** logitScale: initial value of the contrastive losses' learnable raw logit scale. */
  enc: { kind: EncLossKind; weight: number; hidden: number; logitScale: number; imageEncoder: ImageEncoderKind; convChannels: number };
  guidance: {
    /** Training-side: indicator (CrossFlow CFG), cfg (baseline null-caption dropout), autoguidance, none. */
    mode: GuidanceMode;
    /** Fraction of unconditional items (indicator) or dropped captions (cfg). */
    uncondProb: number;
    /** Default guidance weight w at sampling. */
    scale: number;
    /** Autoguidance: the step whose EMA weights are kept as the under-trained "bad" model (0 = steps/10). */
    badStep: number;
  };
  text: { encoder: string };
  /** mix: relative weights of Shapes scene kinds in the training images (default 0.3 / 0.3 / 0.4). */
  data: { dataset: 'shapes'; trainCount: number; imageSize: number; mix: { single: number; count: number; relation: number } };
  autoencoder: { kind: 'patch' | 'conv'; channels: number; latentChannels: number; steps: number; batchSize: number; lr: number; klWeight: number };
  sample: { steps: number };
  log: { checkpointEvery: number };
}

type Allowed = { kind: 'enum'; values: readonly string[] } | { kind: 'bool' } | { kind: 'int'; min: number; max?: number } | { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean } | { kind: 'string' };

/** What each settable field accepts (the source of `--set` validation and its error messages). */
export const FIELD_RULES: Record<string, Allowed> = {
  family: { kind: 'enum', values: FAMILIES },
  preset: { kind: 'string' },
  seed: { kind: 'int', min: 0 },
  steps: { kind: 'int', min: 1 },
  batchSize: { kind: 'int', min: 2 },
  strategy: { kind: 'enum', values: STRATEGIES },
  stage1Steps: { kind: 'int', min: 0 },
  finetuneFraction: { kind: 'number', min: 0, max: 1 },
  'optim.lr': { kind: 'number', min: 0, exclusiveMin: true },
  'optim.warmupSteps': { kind: 'int', min: 0 },
  'optim.schedule': { kind: 'enum', values: LR_SCHEDULES },
  'optim.minLrFraction': { kind: 'number', min: 0, max: 1 },
  'optim.beta1': { kind: 'number', min: 0, max: 0.999999 },
  'optim.beta2': { kind: 'number', min: 0, max: 0.999999 },
  'optim.weightDecay': { kind: 'number', min: 0 },
  'optim.eps': { kind: 'number', min: 0, exclusiveMin: true },
  emaDecay: { kind: 'number', min: 0, max: 1 },
  'flow.time': { kind: 'enum', values: TIME_SAMPLERS },
  'flow.timeMean': { kind: 'number' },
  'flow.timeStd': { kind: 'number', min: 0, exclusiveMin: true },
  'flow.sigmaMin': { kind: 'number', min: 0, max: 0.1 },
  'model.patchSize': { kind: 'enum', values: ['1', '2', '4'] },
  'model.width': { kind: 'int', min: 8 },
  'model.depth': { kind: 'int', min: 1 },
  'model.heads': { kind: 'int', min: 1 },
  'model.mlpRatio': { kind: 'int', min: 1 },
  'model.init': { kind: 'enum', values: ['adaln-zero', 'xavier'] },
  'model.indicatorForm': { kind: 'enum', values: INDICATOR_FORMS },
  'model.posEmbed': { kind: 'enum', values: ['learned', 'sincos'] },
  'model.globalCond': { kind: 'enum', values: GLOBAL_CONDS },
  'model.predict': { kind: 'enum', values: PREDICTIONS },
  've.width': { kind: 'int', min: 8 },
  've.layers': { kind: 'int', min: 0 },
  've.heads': { kind: 'int', min: 1 },
  've.ffn': { kind: 'int', min: 1 },
  've.dropout': { kind: 'number', min: 0, max: 0.9 },
  've.reductions': { kind: 'int', min: 0, max: 6 },
  've.variant': { kind: 'enum', values: VE_VARIANTS },
  've.noiseStd': { kind: 'number', min: 0 },
  'kl.form': { kind: 'enum', values: KL_FORMS },
  'kl.weight': { kind: 'number', min: 0 },
  'enc.kind': { kind: 'enum', values: ENC_LOSSES },
  'enc.weight': { kind: 'number', min: 0 },
  'enc.hidden': { kind: 'int', min: 1 },
  'enc.logitScale': { kind: 'number', min: 0, exclusiveMin: true },
  'enc.imageEncoder': { kind: 'enum', values: IMAGE_ENCODERS },
  'enc.convChannels': { kind: 'int', min: 1 },
  'guidance.mode': { kind: 'enum', values: GUIDANCE_MODES },
  'guidance.uncondProb': { kind: 'number', min: 0, max: 0.5 },
  'guidance.scale': { kind: 'number', min: 0 },
  'guidance.badStep': { kind: 'int', min: 0 },
  'text.encoder': { kind: 'enum', values: TEXT_ENCODER_NAMES },
  'data.dataset': { kind: 'enum', values: ['shapes'] },
  'data.trainCount': { kind: 'int', min: 2 },
  'data.imageSize': { kind: 'enum', values: ['32'] },
  'data.mix.single': { kind: 'number', min: 0 },
  'data.mix.count': { kind: 'number', min: 0 },
  'data.mix.relation': { kind: 'number', min: 0 },
  'autoencoder.kind': { kind: 'enum', values: ['patch', 'conv'] },
  'autoencoder.channels': { kind: 'int', min: 4 },
  'autoencoder.latentChannels': { kind: 'int', min: 1 },
  'autoencoder.steps': { kind: 'int', min: 1 },
  'autoencoder.batchSize': { kind: 'int', min: 2 },
  'autoencoder.lr': { kind: 'number', min: 0, exclusiveMin: true },
  'autoencoder.klWeight': { kind: 'number', min: 0 },
  'sample.steps': { kind: 'int', min: 1 },
  'log.checkpointEvery': { kind: 'int', min: 1 },
};

function describe(rule: Allowed): string {
  switch (rule.kind) {
    case 'enum':
      return rule.values.join(', ');
    case 'bool':
      return 'true, false';
    case 'int':
      return `an integer >= ${rule.min}${rule.max !== undefined ? ` and <= ${rule.max}` : ''}`;
    case 'number': {
      const parts = [];
      if (rule.min !== undefined) parts.push(`${rule.exclusiveMin ? '>' : '>='} ${rule.min}`);
      if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
      return `a number${parts.length ? ' ' + parts.join(' and ') : ''}`;
    }
    default:
      return 'a string';
  }
}

/** The value at a dotted path ('model.width'); undefined where the path leaves the object. */
export function getPath(obj: object, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** Dotted paths of the leaf fields whose values differ between two configs (fields present in either). */
export function configDifferences(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => configDifferences(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[parts[parts.length - 1]] = value;
}

/** Checks one field's value; throws naming the field and its allowed values. */
export function checkField(key: string, value: unknown): void {
  const rule = FIELD_RULES[key];
  if (!rule) throw invalidValue('config key', key, Object.keys(FIELD_RULES).join(', '));
  const bad = () => invalidValue(key, value, describe(rule));
  if (rule.kind === 'enum') {
    if (!rule.values.includes(String(value))) throw bad();
  } else if (rule.kind === 'bool') {
    if (typeof value !== 'boolean') throw bad();
  } else if (rule.kind === 'int' || rule.kind === 'number') {
    const x = value as number;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw bad();
    if (rule.kind === 'int' && !Number.isInteger(x)) throw bad();
    if (rule.min !== undefined && (x < rule.min || (rule.kind === 'number' && rule.exclusiveMin && x === rule.min))) throw bad();
    if (rule.max !== undefined && x > rule.max) throw bad();
  } else if (typeof value !== 'string') throw bad();
}

/** Applies `key=value` strings (numbers parsed for numeric fields). */
/** The config key a "key=value" override names, as applyOverrides reads it (null without a key). */
export function overrideKey(set: string): string | null {
  const eq = set.indexOf('=');
  return eq > 0 ? set.slice(0, eq).trim() : null;
}

export function applyOverrides(config: TrainConfig, sets: string[]): TrainConfig {
  const out = JSON.parse(JSON.stringify(config)) as TrainConfig;
  for (const s of sets) {
    const key = overrideKey(s);
    if (key === null) throw new CrossflowError(`--set expects key=value, got ${JSON.stringify(s)}; keys: ${Object.keys(FIELD_RULES).join(', ')}`);
    const raw = s.slice(s.indexOf('=') + 1).trim();
    const rule = FIELD_RULES[key];
    if (!rule) throw invalidValue('config key', key, Object.keys(FIELD_RULES).join(', '));
    let value: unknown = raw;
    if (rule.kind === 'int' || rule.kind === 'number') value = raw === '' ? NaN : Number(raw);
    if (rule.kind === 'bool') value = raw === 'true' ? true : raw === 'false' ? false : raw;
    const numericEnum = key === 'data.imageSize' || key === 'model.patchSize';
    if (numericEnum) value = Number(raw);
    checkField(key, numericEnum ? raw : value);
    setPath(out as unknown as Record<string, unknown>, key, value);
  }
  return out;
}

/** Validates every field and the combinations between them. */
export function validateConfig(c: TrainConfig): void {
  for (const key of Object.keys(FIELD_RULES)) {
    const v = getPath(c, key);
    checkField(key, key === 'data.imageSize' || key === 'model.patchSize' ? String(v) : v);
  }
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
