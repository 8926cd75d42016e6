// The training configuration: one plain object, filled from a named preset (models/presets.ts), then
// `--set key=value` overrides (overrides.ts), then validated (train/config.ts adds the checks that
// combine fields). Every choice the paper's ablations compare is a field here.
//
// This schema is the one place a field is defined: its TypeScript type (TrainConfig), what it accepts
// (validation and the allowed values an error lists), its default (defaultConfig(), the base of every
// preset), how `--set` reads it from text, and, for fields added after runs were written, the value
// those older runs behaved as (completeConfig). Adding a field means adding one line below.
//
// The config's exact key set and values are hashed into run directories and result files
// (experiments/plan.ts): a new field changes every hash, so it needs `before` (for old runs) and a
// new default that is deliberate. test/config/schema.test.ts pins the presets' hashes. An `optional`
// field (optionalSteps) is the exception: absent unless set, it is in no config that does not set it,
// so adding one changes no hash.
import { z } from 'zod';
import { KIND_WEIGHTS } from '../data/shapes/generate';
import {
  CONTRASTIVE_LOGIT_SCALE_INIT, ENC_LOSSES, FAMILIES, GLOBAL_CONDS, GUIDANCE_MODES, IMAGE_ENCODERS, INDICATOR_FORMS, KL_FORMS,
  LR_SCHEDULES, PREDICTIONS, STRATEGIES, TEXT_ENCODER_NAMES, TIME_SAMPLERS, VE_VARIANTS,
} from './choices';

/** What the schema knows about a field beyond its zod type. */
export interface FieldInfo {
  /** The allowed values, as error messages list them. */
  allowed: string;
  /** The value in defaultConfig(). */
  default: unknown;
  /** The value a `--set` text stands for (a number for numeric fields); what it cannot read is returned as given. */
  fromText: (text: string) => unknown;
  /** What runs written before the field existed behaved as (completeConfig fills it in before the preset's default). */
  before?: unknown;
  /** A constant: present in every config (so in its hash) but not a `--set` key; says why. */
  fixed?: string;
  /** Absent unless set: not in defaultConfig(), old runs or any config (or hash) that does not set it. */
  optional?: true;
}

const FIELD_INFO = z.registry<FieldInfo>();

function withInfo<S extends z.ZodType>(schema: S, info: FieldInfo): S {
  FIELD_INFO.add(schema as z.ZodType, info);
  return schema;
}

interface Extra {
  before?: unknown;
}

/** One of the strings `values`. */
function choice<const T extends readonly [string, ...string[]]>(values: T, dflt: T[number], extra: Extra = {}) {
  return withInfo(z.enum(values), { allowed: values.join(', '), default: dflt, fromText: (s) => s, ...extra });
}

/** One of the numbers `values`; `--set` accepts exactly their decimal text ('2', not '2.0'). */
function numberChoice<const T extends readonly [number, ...number[]]>(values: T, dflt: T[number]) {
  const fromText = (s: string) => values.find((v) => String(v) === s) ?? s;
  return withInfo(z.literal(values), { allowed: values.join(', '), default: dflt, fromText });
}

/** `--set` text as a number: Number(text), with '' not read as 0. */
const numberFromText = (s: string): unknown => (s === '' ? NaN : Number(s));

/** An integer (any size: Number.isInteger, not zod's safe-integer .int()) in [min, max]. */
function int(dflt: number, min: number, max?: number, extra: Extra = {}) {
  let s = z.number().refine(Number.isInteger).gte(min);
  if (max !== undefined) s = s.lte(max);
  const allowed = `an integer >= ${min}${max !== undefined ? ` and <= ${max}` : ''}`;
  return withInfo(s, { allowed, default: dflt, fromText: numberFromText, ...extra });
}

interface Range {
  min?: number;
  /** min itself is not allowed. */
  exclusiveMin?: boolean;
  max?: number;
}

/** A finite number in the range. */
function num(dflt: number, range: Range = {}, extra: Extra = {}) {
  let s = z.number();
  if (range.min !== undefined) s = range.exclusiveMin ? s.gt(range.min) : s.gte(range.min);
  if (range.max !== undefined) s = s.lte(range.max);
  const parts = [];
  if (range.min !== undefined) parts.push(`${range.exclusiveMin ? '>' : '>='} ${range.min}`);
  if (range.max !== undefined) parts.push(`<= ${range.max}`);
  return withInfo(s, { allowed: `a number${parts.length ? ' ' + parts.join(' and ') : ''}`, default: dflt, fromText: numberFromText, ...extra });
}

function text(dflt: string) {
  return withInfo(z.string(), { allowed: 'a string', default: dflt, fromText: (s) => s });
}

/** A field with a single value: kept in the config (its hash covers it), not offered by `--set`. */
function fixed<const T extends string | number>(value: T, why: string) {
  return withInfo(z.literal(value), { allowed: String(value), default: value, fromText: (s) => s, fixed: why });
}

/**
 * Training steps, increasing, each >= 1; `--set` reads them comma-separated ('500,1000,2000'). Optional:
 * absent (no value, not even a default) unless a config sets it, so configs without it keep their hashes.
 */
function optionalSteps() {
  const s = z.array(z.number().refine(Number.isInteger).gte(1)).min(1).refine((v) => v.every((x, i) => i === 0 || x > v[i - 1])).optional();
  const fromText = (t: string) => t.split(',').map((x) => numberFromText(x.trim()));
  return withInfo(s, { allowed: 'increasing integers >= 1, comma-separated (absent: none)', default: undefined, fromText, optional: true });
}

const positive = { min: 0, exclusiveMin: true };

export const TrainConfigSchema = z.object({
  family: choice(FAMILIES, 'crossflow'),
  preset: text('small'),
  seed: int(0, 0),
  /** Steps of the flow phase (joint training: all steps). 4000: ~10 min for `small` on 2 quiet cores (0.15 s/step). */
  steps: int(4000, 1),
  batchSize: int(64, 2),
  strategy: choice(STRATEGIES, 'joint'),
  /** VE pre-training steps of the two-stage strategies (before `steps`). */
  stage1Steps: int(0, 0),
  /** two-stage-joint: the last fraction of `steps` trains VE and flow jointly. */
  finetuneFraction: num(0.35, { min: 0, max: 1 }),
  // Paper: AdamW betas (0.9, 0.9), wd 0.03, lr 1e-4 with 5k warm-up at 300K steps, constant. At a few
  // thousand steps a higher lr, a short warm-up and a cosine decay are needed (constant 2000 steps: 21%
  // single-object accuracy; cosine 4000: 29%; peak 2e-3 instead of 1e-3: 36.5% ± 3.8 against 24.6% ± 3.4 over
  // 3 seeds, seen pairs, w = 3; results/quickstart/README.md).
  optim: z.object({
    lr: num(2e-3, positive),
    warmupSteps: int(100, 0),
    schedule: choice(LR_SCHEDULES, 'cosine', { before: 'constant' }),
    minLrFraction: num(0.1, { min: 0, max: 1 }, { before: 0.1 }),
    beta1: num(0.9, { min: 0, max: 0.999999 }),
    beta2: num(0.9, { min: 0, max: 0.999999 }),
    weightDecay: num(0.03, { min: 0 }),
    eps: num(1e-8, positive),
  }),
  /** EMA decay of the weights used for sampling (paper 0.9999 at 300K steps; faster here). */
  emaDecay: num(0.995, { min: 0, max: 1 }),
  flow: z.object({
    time: choice(TIME_SAMPLERS, 'logit-normal'),
    timeMean: num(0),
    timeStd: num(1, positive),
    sigmaMin: num(1e-5, { min: 0, max: 0.1 }),
  }),
  model: z.object({
    patchSize: numberChoice([1, 2, 4], 2),
    width: int(128, 8),
    depth: int(4, 1),
    heads: int(4, 1),
    mlpRatio: int(4, 1),
    init: choice(['adaln-zero', 'xavier'], 'adaln-zero'),
    indicatorForm: choice(INDICATOR_FORMS, 'token'),
    posEmbed: choice(['learned', 'sincos'], 'sincos', { before: 'learned' }),
    globalCond: choice(GLOBAL_CONDS, 'none', { before: 'none' }),
    predict: choice(PREDICTIONS, 'velocity', { before: 'velocity' }),
  }),
  ve: z.object({
    width: int(64, 8),
    layers: int(2, 0),
    heads: int(4, 1),
    ffn: int(256, 1),
    dropout: num(0.1, { min: 0, max: 0.9 }),
    reductions: int(2, 0, 6),
    variant: choice(VE_VARIANTS, 've'),
    noiseStd: num(0.1, { min: 0 }),
  }),
  // The official code's form is the default (the paper's 1e-4 standard KL is kl.form=paper kl.weight=1e-4).
  kl: z.object({
    form: choice(KL_FORMS, 'code'),
    weight: num(1e-2, { min: 0 }),
  }),
  enc: z.object({
    kind: choice(ENC_LOSSES, 'it-contrast'),
    weight: num(1, { min: 0 }),
    hidden: int(256, 1),
    /** Initial value of the contrastive losses' learnable raw logit scale. */
    logitScale: num(CONTRASTIVE_LOGIT_SCALE_INIT, positive, { before: CONTRASTIVE_LOGIT_SCALE_INIT }),
    imageEncoder: choice(IMAGE_ENCODERS, 'mlp', { before: 'mlp' }),
    convChannels: int(64, 1, undefined, { before: 64 }),
  }),
  guidance: z.object({
    /** Training-side: indicator (CrossFlow CFG), cfg (baseline null-caption dropout), autoguidance, none. */
    mode: choice(GUIDANCE_MODES, 'indicator'),
    /** Fraction of unconditional items (indicator) or dropped captions (cfg). */
    uncondProb: num(0.1, { min: 0, max: 0.5 }),
    /** Default guidance weight w at sampling. */
    scale: num(3, { min: 0 }),
    /** Autoguidance: the step whose EMA weights are kept as the under-trained "bad" model (0 = steps/10). */
    badStep: int(0, 0),
  }),
  text: z.object({
    encoder: choice(TEXT_ENCODER_NAMES, 'random'),
  }),
  data: z.object({
    dataset: fixed('shapes', 'training reads only the Shapes dataset'),
    trainCount: int(20000, 2),
    imageSize: fixed(32, 'the Shapes training images and their autoencoder are 32 x 32'),
    /** Relative weights of Shapes scene kinds in the training images. */
    mix: z.object({
      single: num(KIND_WEIGHTS.single, { min: 0 }, { before: KIND_WEIGHTS.single }),
      count: num(KIND_WEIGHTS.count, { min: 0 }, { before: KIND_WEIGHTS.count }),
      relation: num(KIND_WEIGHTS.relation, { min: 0 }, { before: KIND_WEIGHTS.relation }),
    }),
  }),
  autoencoder: z.object({
    kind: choice(['patch', 'conv'], 'patch'),
    channels: int(32, 4),
    latentChannels: int(4, 1),
    steps: int(600, 1),
    batchSize: int(64, 2),
    lr: num(2e-3, positive),
    klWeight: num(1e-4, { min: 0 }),
  }),
  sample: z.object({
    steps: int(50, 1),
  }),
  log: z.object({
    checkpointEvery: int(200, 1),
    /** Steps at which the trainer also keeps a checkpoint (ckpt-<step>.ckpt: weights and EMA), e.g. to evaluate along training. */
    keepSteps: optionalSteps(),
  }),
});

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export interface Field {
  /** Dotted path: 'model.width'. */
  key: string;
  schema: z.ZodType;
  info: FieldInfo;
}

/** Every leaf field of a schema object, in schema order. */
function fieldsOf(shape: Record<string, z.ZodType>, prefix = ''): Field[] {
  return Object.entries(shape).flatMap(([name, schema]) => {
    const key = prefix + name;
    if (schema instanceof z.ZodObject) return fieldsOf(schema.shape as Record<string, z.ZodType>, `${key}.`);
    const info = FIELD_INFO.get(schema);
    if (!info) throw new Error(`config field ${key} was built without a field helper`);
    return [{ key, schema, info }];
  });
}

/** The config's leaf fields, in schema order (the order validation checks them in). */
export const FIELDS: readonly Field[] = fieldsOf(TrainConfigSchema.shape);
const FIELD_BY_KEY = new Map(FIELDS.map((f) => [f.key, f]));

/** The keys `--set` accepts (fixed fields are not among them). */
export const SETTABLE_KEYS: readonly string[] = FIELDS.filter((f) => f.info.fixed === undefined).map((f) => f.key);

export function fieldOf(key: string): Field | undefined {
  return FIELD_BY_KEY.get(key);
}

/** An object of the schema's shape, with each field's value from `pick` (fields where it is undefined left out, and groups left empty). */
function build(shape: Record<string, z.ZodType>, pick: (info: FieldInfo) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    if (schema instanceof z.ZodObject) {
      const inner = build(schema.shape as Record<string, z.ZodType>, pick);
      if (Object.keys(inner).length > 0) out[name] = inner;
    } else {
      const value = pick(FIELD_INFO.get(schema) as FieldInfo);
      if (value !== undefined) out[name] = value;
    }
  }
  return out;
}

/** Everything not size-specific: the paper's recipe at CPU scale (a fresh object each call). */
export function defaultConfig(): TrainConfig {
  return build(TrainConfigSchema.shape, (info) => info.default) as TrainConfig;
}

/** The fields added since the first runs, each with what runs written before it behaved as (a partial config). */
export function beforeFieldsExisted(): Record<string, unknown> {
  return build(TrainConfigSchema.shape, (info) => info.before);
}
