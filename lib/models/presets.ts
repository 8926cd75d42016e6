// Named model presets: one registry for CrossFlow sizes and the standard flow-matching baseline
// sizes matched to them in parameter count (within 10%; what is counted is said in paramCounts()).
import { CrossflowError, invalidValue } from '../errors';
import { beforeFieldsExisted, defaultConfig, TrainConfig } from '../config/schema';

export interface PresetSpec {
  family: 'crossflow' | 'baseline';
  description: string;
  model: Partial<TrainConfig['model']>;
  ve?: Partial<TrainConfig['ve']>;
  /** Other fields (steps, batch, ...) set by the preset. */
  extra?: (c: TrainConfig) => void;
}

/** CrossFlow sizes (flow transformer + Text VE); `fm-*` = standard flow matching with cross-attention. */
export const PRESETS: Record<string, PresetSpec> = {
  tiny: {
    family: 'crossflow',
    description: 'test-size model (seconds per hundred steps)',
    model: { width: 32, depth: 1, heads: 2, mlpRatio: 2 },
    ve: { width: 32, layers: 1, heads: 2, ffn: 64, reductions: 2 },
    extra: (c) => {
      c.steps = 20;
      c.batchSize = 8;
      c.data.trainCount = 64;
      c.autoencoder = { ...c.autoencoder, channels: 8, steps: 20, batchSize: 16 };
      c.enc.hidden = 32;
      c.log.checkpointEvery = 10;
      c.sample.steps = 4;
    },
  },
  xs: {
    family: 'crossflow',
    description: 'extra small',
    model: { width: 64, depth: 2, heads: 2 },
    ve: { width: 64, layers: 1, heads: 4, ffn: 128, reductions: 2 },
  },
  small: {
    family: 'crossflow',
    description: 'the quickstart size: the paper\'s configuration here; the quickstart adds QUICKSTART_RECIPE (lib/notebooks/quickstart.ts)',
    model: { width: 128, depth: 4, heads: 4 },
    ve: { width: 64, layers: 2, heads: 4, ffn: 256, reductions: 2 },
  },
  base: {
    family: 'crossflow',
    description: 'about 4x small',
    model: { width: 192, depth: 6, heads: 6 },
    ve: { width: 128, layers: 3, heads: 4, ffn: 512, reductions: 3 },
  },
  large: {
    family: 'crossflow',
    description: 'about 10x small (the ref-dit benchmark width)',
    model: { width: 256, depth: 8, heads: 4 },
    ve: { width: 128, layers: 4, heads: 4, ffn: 512, reductions: 3 },
  },
  'fm-tiny': { family: 'baseline', description: 'test-size baseline (not parameter-matched)', model: { width: 32, depth: 1, heads: 2, mlpRatio: 2 }, extra: (c) => PRESETS.tiny.extra?.(c) },
  'fm-xs': { family: 'baseline', description: 'baseline matched to xs', model: { width: 72, depth: 3, heads: 2 } },
  'fm-small': { family: 'baseline', description: 'baseline matched to small', model: { width: 128, depth: 4, heads: 4 } },
  'fm-base': { family: 'baseline', description: 'baseline matched to base', model: { width: 192, depth: 6, heads: 6 } },
  'fm-large': { family: 'baseline', description: 'baseline matched to large', model: { width: 256, depth: 8, heads: 4 } },
};

export const PRESET_NAMES = Object.keys(PRESETS);

/** The full config of a preset (before --set overrides). */
export function presetConfig(name: string): TrainConfig {
  const spec = PRESETS[name];
  if (!spec) throw invalidValue('--preset', name, PRESET_NAMES.join(', '));
  const c = defaultConfig();
  c.preset = name;
  c.family = spec.family;
  c.model = { ...c.model, ...spec.model };
  if (spec.ve) c.ve = { ...c.ve, ...spec.ve };
  if (spec.family === 'baseline') {
    // Standard flow matching: Gaussian source, text through cross-attention, classic CFG by dropping 10% of captions.
    c.guidance = { ...c.guidance, mode: 'cfg' };
    c.enc = { ...c.enc, kind: 'none' };
  }
  spec.extra?.(c);
  return c;
}

export function presetFamily(name: string): 'crossflow' | 'baseline' {
  const spec = PRESETS[name];
  if (!spec) throw new CrossflowError(`unknown preset ${JSON.stringify(name)}; allowed: ${PRESET_NAMES.join(', ')}`);
  return spec.family;
}

/**
 * Options our results showed useless, removed from the code (results/quickstart/README.md keeps their
 * findings), with the value that meant "off". A run that trained with one on cannot be rebuilt.
 */
export const RETIRED_OPTIONS: Record<string, { off: unknown; finding: string }> = {
  'model.timeScale': { off: 1, finding: "DiT's 1000 t time embedding made no visible difference (session 2)" },
  'model.longSkips': { off: false, finding: 'U-ViT long skips gained nothing (sessions 5-6)' },
  'model.selfCond': { off: false, finding: 'self-conditioning gained nothing over two seeds (session 7)' },
  'model.globalHidden': { off: 0, finding: 'a 4x wider read-out gained nothing (session 7)' },
  'model.globalCond': { off: 'film', finding: "the t-aware 'film' read-out gained nothing (session 7)" },
};

/**
 * An old run's config without the retired fields; a run that used one is an error naming it. (For
 * model.globalCond only the value 'film' is retired: `off` there is the retired value.)
 */
export function withoutRetiredOptions(old: TrainConfig): TrainConfig {
  const copy = JSON.parse(JSON.stringify(old)) as Record<string, Record<string, unknown>>;
  for (const [key, { off, finding }] of Object.entries(RETIRED_OPTIONS)) {
    const [group, field] = key.split('.');
    const value = copy[group]?.[field];
    if (value === undefined) continue;
    const retiredValue = key === 'model.globalCond';
    if (retiredValue ? value === off : JSON.stringify(value) !== JSON.stringify(off))
      throw new CrossflowError(
        `this run was trained with ${key}=${JSON.stringify(value)}, an option since removed (${finding}; results/quickstart/README.md). ` +
          `It cannot be loaded by this version: retrain it without ${key}, or check out a commit before its removal.`,
      );
    if (!retiredValue) delete copy[group][field];
  }
  return copy as unknown as TrainConfig;
}

/**
 * A config read from an older run (config.json or a checkpoint) with the fields added since filled in:
 * first as runs behaved before the field existed, then (for anything else missing) from its preset's
 * defaults, so old runs still sample and resume as they trained. Fields it has are kept as they are.
 */
export function completeConfig(old: TrainConfig): TrainConfig {
  old = withoutRetiredOptions(old);
  const defaults = (PRESETS[old.preset] ? presetConfig(old.preset) : defaultConfig()) as unknown as Record<string, unknown>;
  const fill = (have: Record<string, unknown>, want: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...have };
    for (const [k, v] of Object.entries(want)) {
      if (!(k in out)) out[k] = v;
      else if (v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object') out[k] = fill(out[k] as Record<string, unknown>, v as Record<string, unknown>);
    }
    return out;
  };
  return fill(fill(old as unknown as Record<string, unknown>, beforeFieldsExisted()), defaults) as unknown as TrainConfig;
}
