// One run of a study, in this process: train into the run's directory (resuming from its checkpoint),
// evaluate (with scale.evalSteps: at each kept checkpoint too), and write the result file. The run
// directory is locked while this works, so two sweeps that share a row never train it twice at once;
// the second waits and then finds it done. A run's sampling stage (sampling.ts) goes through the same lock.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as lockfile from 'proper-lockfile';
import { lockOptions } from './lock';
import { currentBackend } from '../backend/select';
import { REPO_ROOT } from '../paths';
import { generate, LoadedRun, loadRun } from '../sampling/generate';
import { generateShapes } from '../data/shapes/index';
import { writePngRgb } from '../eval/folder';
import type { ProgressInfo } from '../train/progress';
import { train, TrainResult } from '../train/trainer';
import { totalSteps } from '../train/config';
import { evaluateRun, RunEvaluation } from '../runs/evaluate';
import { hashOf, PlannedRun } from './plan';

/** What results/ablations/<study>/<row>/seed<k>.json holds. */
export interface RunResult {
  study: string;
  row: string;
  seed: number;
  profile: string;
  /** Repeats exactly this run (from the repository root). */
  command: string;
  config_hash: string;
  eval_hash: string;
  config: PlannedRun['config'];
  eval_settings: PlannedRun['eval'];
  git_commit: string;
  backend: string;
  params: TrainResult['counts'];
  steps: number;
  evaluation: Omit<RunEvaluation, 'metrics'>;
  metrics: RunEvaluation['metrics'];
  /** With eval_settings.steps: the same evaluation at each kept checkpoint (the last is `metrics`). */
  checkpoints?: CheckpointEvaluation[];
  /** Wall seconds; the only fields that differ between two runs of the same command. */
  timing: { train_seconds: number; eval_seconds: number; blas_threads: number | null };
}

export interface CheckpointEvaluation {
  step: number;
  metrics: RunEvaluation['metrics'];
  evaluation: Omit<RunEvaluation, 'metrics'>;
  eval_seconds: number;
}

/** Fields a resumed and an uninterrupted run may differ in. */
export const TIMING_FIELDS = ['timing'] as const;

export function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Writes a file so that a reader sees the old content or the new one, never a half-written one. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The captions every run draws for the studies' sample grids: the first test-split scenes. */
export const GRID_PROMPT_COUNT = 8;
export function gridPrompts(imageSize = 32): string[] {
  return generateShapes({ split: 'test', count: GRID_PROMPT_COUNT, seed: 0, size: imageSize }).map((s) => s.caption);
}

/** seed<k>.json -> seed<k>-samples.png beside it. */
export function samplesFileOf(resultFile: string): string {
  return resultFile.replace(/\.json$/, '-samples.png');
}

/** One row of images, one per grid prompt, side by side (sampling seed 0, the study's guidance). */
function writeSampleStrip(run: LoadedRun, planned: PlannedRun, file: string): void {
  const g = generate(run, gridPrompts(run.config.data.imageSize), { seed: 0, cfg: planned.eval.cfg, steps: planned.eval.sampleSteps });
  const { width: W, height: H } = g.images[0];
  const N = g.images.length;
  const strip = new Uint8ClampedArray(N * W * H * 3);
  g.images.forEach((im, k) => {
    for (let y = 0; y < H; y++) strip.set(im.rgb.subarray(y * W * 3, (y + 1) * W * 3), (y * N * W + k * W) * 3);
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writePngRgb(file, strip, N * W, H);
}

interface CachedEvaluation {
  eval_hash: string;
  evaluation: RunEvaluation;
  eval_seconds: number;
}

export interface RunOptions {
  log?: (m: string) => void;
  onProgress?: (p: ProgressInfo) => void;
}

/**
 * Runs `work` on the trained run: locks the run directory (another sweep may be training this very run, a
 * row two studies share: waits for it, up to a day), trains it unless its summary says it is done, then
 * calls `work` with the training summary, still holding the lock.
 */
export async function withTrainedRun<T>(run: PlannedRun, opts: RunOptions, work: (trained: TrainResult) => Promise<T>): Promise<T> {
  const log = opts.log ?? (() => {});
  fs.mkdirSync(run.runDir, { recursive: true });
  const release = await lockfile.lock(run.runDir, { ...lockOptions(run.runDir), retries: { retries: 8640, minTimeout: 10_000, maxTimeout: 10_000 } });
  try {
    const total = totalSteps(run.config);
    const summaryFile = path.join(run.runDir, 'summary.json');
    let trained: TrainResult;
    const prev = fs.existsSync(summaryFile) ? (JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as TrainResult) : null;
    if (prev && prev.steps === total) {
      trained = prev;
      log(`${run.study}/${run.row}/seed${run.seed}: trained already (${run.runDir})`);
    } else {
      trained = await train({ config: run.config, out: run.runDir, resume: true, log, onProgress: opts.onProgress });
      if (trained.stoppedEarly) throw new Error(`training of ${run.runDir} stopped at step ${trained.steps} of ${total}`);
    }
    return await work(trained);
  } finally {
    await release();
  }
}

/** The evaluation of one checkpoint (`step` null: the run's last), cached in the run directory under `key`. */
async function evaluateCached(run: PlannedRun, key: string, step: number | null, log: (m: string) => void): Promise<CachedEvaluation> {
  const evalFile = path.join(run.runDir, `eval-${key}.json`);
  if (fs.existsSync(evalFile)) return JSON.parse(fs.readFileSync(evalFile, 'utf8')) as CachedEvaluation;
  log(`${run.study}/${run.row}/seed${run.seed}: evaluating${step === null ? '' : ` step ${step}`} at w = ${run.eval.cfg}`);
  const t0 = Date.now();
  const loaded = await loadRun(run.runDir, step === null ? {} : { step });
  let cached: CachedEvaluation;
  try {
    const evaluation = await evaluateRun(loaded, run.eval, run.eval.cfg, run.eval.seed);
    cached = { eval_hash: key, evaluation, eval_seconds: (Date.now() - t0) / 1000 };
  } finally {
    loaded.dispose();
  }
  writeFileAtomic(evalFile, JSON.stringify(cached, null, 2) + '\n');
  return cached;
}

export async function runOne(run: PlannedRun, opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  return withTrainedRun(run, opts, async (trained) => {
    // Along training: each kept checkpoint's evaluation is cached under the settings without the step list
    // (a longer list reuses them); the last step's is the run's `metrics`.
    const { steps: evalSteps, ...perCheckpoint } = run.eval;
    const checkpoints: CheckpointEvaluation[] = [];
    for (const step of evalSteps ?? []) {
      const c = await evaluateCached(run, `${hashOf(perCheckpoint)}-step${step}`, step, log);
      const { metrics, ...evaluation } = c.evaluation;
      checkpoints.push({ step, metrics, evaluation, eval_seconds: c.eval_seconds });
    }
    const cached = evalSteps ? await evaluateCached(run, `${hashOf(perCheckpoint)}-step${evalSteps[evalSteps.length - 1]}`, evalSteps[evalSteps.length - 1], log) : await evaluateCached(run, run.evalHash, null, log);
    if (!fs.existsSync(samplesFileOf(run.resultFile))) {
      const loaded = await loadRun(run.runDir);
      try {
        writeSampleStrip(loaded, run, samplesFileOf(run.resultFile));
      } finally {
        loaded.dispose();
      }
    }
    const { metrics, ...evaluation } = cached.evaluation;
    const backend = currentBackend();
    const evalSeconds = evalSteps ? checkpoints.reduce((s, c) => s + c.eval_seconds, 0) : cached.eval_seconds;
    const result: RunResult = {
      study: run.study, row: run.row, seed: run.seed, profile: run.profile, command: run.command,
      config_hash: run.configHash, eval_hash: run.evalHash, config: run.config, eval_settings: run.eval,
      git_commit: gitCommit(), backend: backend?.backend ?? 'unknown', params: trained.counts, steps: trained.steps,
      evaluation, metrics, ...(evalSteps ? { checkpoints } : {}),
      timing: { train_seconds: trained.seconds, eval_seconds: evalSeconds, blas_threads: backend?.blasThreads ?? null },
    };
    writeFileAtomic(run.resultFile, JSON.stringify(result, null, 2) + '\n');
    return result;
  });
}
