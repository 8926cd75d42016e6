// Helpers of notebooks/02_quickstart.ipynb (kept here so the notebook stays thin): the config for
// each run profile, the loss-curve figure from metrics.csv, and the prompts it shows.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { repoPath } from '../paths';
import { configSets, Profile } from './profile';
import { presetConfig } from '../models/presets';
import { applyOverrides, overrideKey } from '../config/overrides';
import type { TrainConfig } from '../config/schema';
import { singleObjectRow, SingleObjectRow } from '../runs/singleObject';
import { readMetricsCsv } from '../train/metricsCsv';
import type { LoadedRun } from '../sampling/generate';
import type { TrainResult } from '../train/trainer';


/**
 * Where the notebook's run lives (git-ignored: checkpoints are not committed) and where its numbers go. The
 * smoke profile only proves the notebook runs: its numbers go to the git-ignored .cache/, not results/, yet
 * through the same code, so CI exercises it. The run directory is named by a hash of the full config, so a
 * changed config (other --set values, or a new default) trains afresh instead of refusing to resume an old run.
 */
export function quickstartPaths(p: Profile, sets: string[] = configSets()): { runDir: string; resultsDir: string; name: string } {
  const resultsDir = p === 'smoke' ? repoPath('.cache', 'quickstart-smoke') : repoPath('results', 'quickstart');
  const name = quickstartName(p, sets);
  return { runDir: repoPath('.cache', 'runs', `quickstart-${p}-${shortHash(JSON.stringify(quickstartConfig(p, sets)))}`), resultsDir, name };
}

/**
 * The profile, plus a short hash of the overrides when there are any: a run with `--set` writes its own result
 * file, and the default run's is left alone.
 */
export function quickstartName(p: Profile, sets: string[]): string {
  return sets.length === 0 ? p : `${p}-set-${shortHash(sets.join('\n'))}`;
}

function shortHash(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * What the quickstart adds to the `small` preset (the paper's method) so that, inside the 15-minute budget, it draws
 * what the prompt says: data prediction, a read-out of z_t, T-T contrast (the paper's second L_enc) and autoguidance
 * (the paper's alternative to the CFG indicator) for 5000 steps. Over 5 seeds it more than doubles the single-object
 * accuracy of the paper's configuration (results/quickstart/README.md, session 8). `crossflow train --preset small`
 * alone still trains the paper's configuration.
 */
export const QUICKSTART_RECIPE = ['model.predict=data', 'model.globalCond=mlp', 'enc.kind=tt-contrast', 'guidance.mode=autoguidance', 'steps=5000'];

/** Autoguidance's bad model: the EMA weights this far into training (a quarter beat a half and an eighth; session 8). */
export const QUICKSTART_BAD_FRACTION = 0.25;

/** Autoguidance's bad-model step for a run of `steps` steps: QUICKSTART_BAD_FRACTION of them. */
export function quickstartBadStep(steps: number): number {
  return Math.max(1, Math.round(steps * QUICKSTART_BAD_FRACTION));
}

/**
 * smoke: a minute in CI (tiny model, short AE, the same recipe); small: the `small` preset with QUICKSTART_RECIPE;
 * paper: the paper's configuration at the `base` size. `sets` (default: those of `crossflow notebooks --set`) are
 * applied last. With autoguidance and no guidance.badStep among the sets, the bad model is taken at
 * QUICKSTART_BAD_FRACTION of the steps.
 */
export function quickstartConfig(p: Profile, sets: string[] = configSets()): TrainConfig {
  const small = applyOverrides(presetConfig('small'), QUICKSTART_RECIPE);
  const base =
    p === 'smoke'
      ? applyOverrides(small, [
          'steps=40', 'batchSize=16', 'data.trainCount=512', 'autoencoder.steps=40', 'autoencoder.channels=8',
          'model.width=64', 'model.depth=2', 'optim.warmupSteps=5', 'sample.steps=10', 'log.checkpointEvery=20',
        ])
      : p === 'paper'
        ? applyOverrides(presetConfig('base'), ['steps=20000'])
        : small;
  const c = applyOverrides(base, sets);
  if (c.guidance.mode === 'autoguidance' && !sets.some((x) => overrideKey(x) === 'guidance.badStep'))
    c.guidance.badStep = quickstartBadStep(c.steps);
  return c;
}

export const QUICKSTART_PROMPTS = [
  'a red circle', 'a blue square', 'a green triangle', 'a yellow circle', 'an orange diamond', 'a purple square',
  'two red squares', 'three blue circles', 'a red circle to the left of a blue square', 'a green triangle above a yellow square',
  // held-out pairs: never seen in training, as images or captions
  'a purple circle', 'an orange triangle',
];

/** Reads metrics.csv into columns (numbers, except `phase`). */
export function readMetrics(file: string): Record<string, number[]> & { phase: string[] } {
  return readMetricsCsv(file);
}

/** Exponential moving average for smoothing noisy per-step losses. */
export function smooth(xs: number[], alpha = 0.05): number[] {
  let m = xs[0] ?? 0;
  return xs.map((x) => (m = alpha * x + (1 - alpha) * m));
}

/** A plotly figure of the per-step loss terms (smoothed), log-scale y. */
export function lossFigure(file: string): { data: Array<Record<string, unknown>>; layout: Record<string, unknown> } {
  const m = readMetrics(file);
  const trace = (name: string, key: string) => ({ type: 'scatter', mode: 'lines', name, x: m.step, y: smooth(m[key]) });
  return {
    data: [trace('total', 'loss'), trace('flow matching', 'flow'), trace('L_enc', 'enc'), trace('KL', 'kl')],
    layout: { title: 'Training losses (EMA-smoothed per step)', xaxis: { title: 'step' }, yaxis: { title: 'loss', type: 'log' }, width: 720, height: 400 },
  };
}

/** The sampling seed of the quickstart's accuracy check (fixed, so a rerun of the notebook repeats it). */
export const QUICKSTART_SAMPLE_SEED = 7;

/** A sample-check row without its per-prompt detail (the notebook prints it as a table). */
export type QuickstartRow = Omit<SingleObjectRow, 'per_prompt' | 'shape_confusion'>;

/** Samples per prompt: 4 held-out pairs against 20 seen ones, so 32 each there keeps one lucky prompt from moving the rate by 20 points. */
export interface PerPrompt {
  seen: number;
  heldout: number;
}

export function quickstartPerPrompt(p: Profile): PerPrompt {
  return p === 'smoke' ? { seen: 1, heldout: 1 } : { seen: 8, heldout: 32 };
}

/** Single-object accuracy on seen and held-out colour-shape pairs, read by the Shapes judge, at the run's default w. */
export async function quickstartAccuracy(run: LoadedRun, perPrompt: PerPrompt): Promise<QuickstartRow[]> {
  const rows: QuickstartRow[] = [];
  for (const which of ['seen', 'heldout'] as const) {
    const { per_prompt, shape_confusion, ...row } = await singleObjectRow(run, which, perPrompt[which], { seed: QUICKSTART_SAMPLE_SEED });
    rows.push(row);
  }
  return rows;
}

/**
 * Writes results/quickstart/single_object-<name>.json (name: quickstartName): the numbers with the command that
 * repeats them, the overrides, the full config, and the seed count (one run; the seed spread is measured in
 * results/quickstart/README.md).
 */
export function writeQuickstartResult(
  p: Profile,
  r: { backend: string; config: TrainConfig; result: TrainResult; rows: QuickstartRow[]; perPrompt: PerPrompt },
  dir = quickstartPaths(p).resultsDir,
  sets: string[] = configSets(),
): string {
  const file = path.join(dir, `single_object-${quickstartName(p, sets)}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const setArgs = sets.length ? ` --set ${sets.map((x) => (/^[\w.=-]+$/.test(x) ? x : JSON.stringify(x))).join(' ')}` : '';
  const record = {
    command: `npx crossflow notebooks --profile ${p} 02_quickstart${setArgs}${sets.length ? '' : '   (npm start runs it with profile small)'}`,
    quickstart_recipe: p === 'paper' ? [] : QUICKSTART_RECIPE,
    sets,
    seeds: 1,
    spread: 'one run; for the seed spread of this config see results/quickstart/README.md',
    backend: r.backend,
    steps: r.result.steps,
    train_seconds: r.result.seconds,
    counts: r.result.counts,
    autoencoder_psnr: r.result.autoencoder?.psnr ?? null,
    sampling: { cfg: r.config.guidance.scale, steps: r.config.sample.steps, seed: QUICKSTART_SAMPLE_SEED, per_prompt: r.perPrompt },
    rows: r.rows,
    config: r.config,
  };
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  return file;
}
