// A study's sampling stage (`crossflow ablate <study> --sampling`), on a trained run's last checkpoint:
// quality against the number of velocity evaluations (the study's evaluation, smaller, at each solver and
// step count of scale.sampling.points), and images per second (Euler at a fixed step count, guided and
// unguided, after a warm-up batch). Quality points are cached in the run directory like evaluations;
// the speed is measured afresh each time the stage runs, so it reflects this machine and its load then.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { currentBackend } from '../backend/select';
import { generateShapes } from '../data/shapes/index';
import { nfeOf, Solver } from '../flow/solver';
import { evaluateRun, RunEvaluation } from '../runs/evaluate';
import { generate, LoadedRun, loadRun } from '../sampling/generate';
import type { TrainResult } from '../train/trainer';
import { hashOf, PlannedRun, SamplingSettings } from './plan';
import { gitCommit, RunOptions, withTrainedRun, writeFileAtomic } from './runOne';

export interface SamplingPoint {
  solver: Solver;
  steps: number;
  /** Evaluations of the (guided) velocity field per image: steps for Euler, 2 steps for Heun and midpoint. */
  nfe: number;
  metrics: RunEvaluation['metrics'];
  evaluation: Omit<RunEvaluation, 'metrics'>;
  eval_seconds: number;
}

export interface SpeedMeasurement {
  /** Guidance weight (1: unguided, one batch per evaluation; otherwise a doubled batch, or two for autoguidance). */
  cfg: number;
  seconds: number;
  images_per_second: number;
  /** Wall time of one evaluation of the velocity for one image, in milliseconds (text encoding and decoding included pro rata). */
  ms_per_image_evaluation: number;
}

export interface Throughput {
  images: number;
  batch: number;
  solver: 'euler';
  steps: number;
  guided: SpeedMeasurement;
  unguided: SpeedMeasurement;
  /** BLAS threads and the 1-minute load average per CPU while measuring (other processes slow it). */
  blas_threads: number | null;
  load_per_cpu: number;
}

/** What results/ablations/<study>/<row>/seed<k>-sampling.json holds. */
export interface SamplingResult {
  study: string;
  row: string;
  seed: number;
  profile: string;
  stage: 'sampling';
  /** Repeats exactly this measurement (from the repository root). */
  command: string;
  config_hash: string;
  /** Hash of sampling_settings. */
  eval_hash: string;
  config: PlannedRun['config'];
  sampling_settings: SamplingSettings;
  git_commit: string;
  backend: string;
  params: TrainResult['counts'];
  /** The checkpoint measured: the run's last step. */
  step: number;
  points: SamplingPoint[];
  throughput: Throughput;
  /** Wall seconds of the stage; with `throughput`, the fields that differ between two runs of the same command. */
  timing: { seconds: number };
}

function loadPerCpu(): number {
  try {
    const one = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    return one / os.cpus().length;
  } catch {
    return NaN;
  }
}

/** Images per second of `generate` on `prompts` at Euler `steps`, after one untimed warm-up batch. */
export function measureSpeed(run: LoadedRun, prompts: string[], steps: number, cfg: number, batch: number): SpeedMeasurement {
  generate(run, prompts.slice(0, batch), { cfg, steps: 2, seed: 1 }, batch); // warm-up: kernels, caches
  const t0 = process.hrtime.bigint();
  generate(run, prompts, { cfg, steps, seed: 0 }, batch);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { cfg, seconds, images_per_second: prompts.length / seconds, ms_per_image_evaluation: (1000 * seconds) / (prompts.length * steps) };
}

/** The sampling stage of one planned run (stage 'sampling'): trains it first when it is not trained yet. */
export async function runSampling(run: PlannedRun, opts: RunOptions = {}): Promise<SamplingResult> {
  const log = opts.log ?? (() => {});
  const settings = run.sampling;
  if (run.stage !== 'sampling' || !settings) throw new Error(`${run.study}/${run.row}/seed${run.seed}: not a sampling-stage run`);
  return withTrainedRun(run, opts, async (trained) => {
    const t0 = Date.now();
    const loaded = await loadRun(run.runDir);
    try {
      const points: SamplingPoint[] = [];
      for (const p of settings.points) {
        const file = path.join(run.runDir, `sampling-${hashOf({ eval: settings.eval, cfg: settings.cfg, seed: settings.seed, solver: p.solver, steps: p.steps })}.json`);
        let point: SamplingPoint;
        if (fs.existsSync(file)) point = JSON.parse(fs.readFileSync(file, 'utf8')) as SamplingPoint;
        else {
          log(`${run.study}/${run.row}/seed${run.seed}: ${p.solver} at ${p.steps} steps (${nfeOf(p.solver, p.steps)} evaluations)`);
          const te = Date.now();
          const { metrics, ...evaluation } = await evaluateRun(loaded, { ...settings.eval, sampleSteps: p.steps }, settings.cfg, settings.seed, p.solver);
          point = { solver: p.solver, steps: p.steps, nfe: nfeOf(p.solver, p.steps), metrics, evaluation, eval_seconds: (Date.now() - te) / 1000 };
          writeFileAtomic(file, JSON.stringify(point, null, 2) + '\n');
        }
        points.push(point);
      }
      const { images, batch, steps } = settings.throughput;
      log(`${run.study}/${run.row}/seed${run.seed}: images per second (${images} images, Euler ${steps} steps)`);
      const prompts = generateShapes({ split: 'test', count: images, seed: 0, size: loaded.config.data.imageSize }).map((s) => s.caption);
      const guided = measureSpeed(loaded, prompts, steps, settings.cfg, batch);
      const unguided = measureSpeed(loaded, prompts, steps, 1, batch);
      const backend = currentBackend();
      const result: SamplingResult = {
        study: run.study, row: run.row, seed: run.seed, profile: run.profile, stage: 'sampling', command: run.command,
        config_hash: run.configHash, eval_hash: run.evalHash, config: run.config, sampling_settings: settings,
        git_commit: gitCommit(), backend: backend?.backend ?? 'unknown', params: trained.counts, step: loaded.step, points,
        throughput: { images, batch, solver: 'euler', steps, guided, unguided, blas_threads: backend?.blasThreads ?? null, load_per_cpu: loadPerCpu() },
        timing: { seconds: (Date.now() - t0) / 1000 },
      };
      writeFileAtomic(run.resultFile, JSON.stringify(result, null, 2) + '\n');
      return result;
    } finally {
      loaded.dispose();
    }
  });
}
