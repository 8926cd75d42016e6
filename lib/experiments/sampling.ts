// A study's sampling stage (`crossflow ablate <study> --sampling`), on a trained run's last checkpoint:
// quality against the number of velocity evaluations and against the guidance weight (the study's
// evaluation, smaller, at each point of scale.sampling.points). Points are cached in the run directory
// like evaluations. Speed is not measured here, beside other jobs, but on its own (scaling/speed.ts).
import * as fs from 'fs';
import * as path from 'path';
import { currentBackend } from '../backend/select';
import { nfeOf, Solver } from '../flow/solver';
import { evaluateRun, RunEvaluation } from '../runs/evaluate';
import { loadRun } from '../sampling/generate';
import type { TrainResult } from '../train/trainer';
import { hashOf, PlannedRun, SamplingSettings } from './plan';
import { gitCommit, RunOptions, withTrainedRun, writeFileAtomic } from './runOne';

export interface SamplingPoint {
  solver: Solver;
  steps: number;
  /** Guidance weight (the study's unless the point names another). */
  cfg: number;
  /** Evaluations of the (guided) velocity field per image: steps for Euler, 2 steps for Heun and midpoint. */
  nfe: number;
  metrics: RunEvaluation['metrics'];
  evaluation: Omit<RunEvaluation, 'metrics'>;
  eval_seconds: number;
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
  /** Wall seconds of the stage: the field that differs between two runs of the same command. */
  timing: { seconds: number };
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
        const cfg = p.cfg ?? settings.cfg;
        const file = path.join(run.runDir, `sampling-${hashOf({ eval: settings.eval, cfg, seed: settings.seed, solver: p.solver, steps: p.steps })}.json`);
        let point: SamplingPoint;
        // (points cached before they recorded their weight were all at the study's)
        if (fs.existsSync(file)) point = { cfg, ...(JSON.parse(fs.readFileSync(file, 'utf8')) as Omit<SamplingPoint, 'cfg'>) };
        else {
          log(`${run.study}/${run.row}/seed${run.seed}: ${p.solver} at ${p.steps} steps (${nfeOf(p.solver, p.steps)} evaluations), w = ${cfg}`);
          const te = Date.now();
          const { metrics, ...evaluation } = await evaluateRun(loaded, { ...settings.eval, sampleSteps: p.steps }, cfg, settings.seed, p.solver);
          point = { solver: p.solver, steps: p.steps, cfg, nfe: nfeOf(p.solver, p.steps), metrics, evaluation, eval_seconds: (Date.now() - te) / 1000 };
          writeFileAtomic(file, JSON.stringify(point, null, 2) + '\n');
        }
        points.push(point);
      }
      const backend = currentBackend();
      const result: SamplingResult = {
        study: run.study, row: run.row, seed: run.seed, profile: run.profile, stage: 'sampling', command: run.command,
        config_hash: run.configHash, eval_hash: run.evalHash, config: run.config, sampling_settings: settings,
        git_commit: gitCommit(), backend: backend?.backend ?? 'unknown', params: trained.counts, step: loaded.step, points,
        timing: { seconds: (Date.now() - t0) / 1000 },
      };
      writeFileAtomic(run.resultFile, JSON.stringify(result, null, 2) + '\n');
      return result;
    } finally {
      loaded.dispose();
    }
  });
}
