// What a sweep would run: every row x seed of a study at a profile, each keyed by a hash of its full
// config (the run directory) and of its evaluation settings, with the result file it writes and the
// one command that repeats it. A result file whose hashes differ from today's is stale: it is never
// read into a report and the run is redone. A study with a sampling step (scale.sampling) plans it as a
// second stage: one more result file per run (seed<k>-sampling.json), keyed by the sampling settings.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { applyOverrides } from '../config/overrides';
import type { TrainConfig } from '../config/schema';
import { validateConfig } from '../train/config';
import { presetConfig } from '../models/presets';
import { invalidValue } from '../errors';
import type { Profile } from '../notebooks/profile';
import { REPO_ROOT, repoPath } from '../paths';
import type { EvalSizes } from '../runs/evaluate';
import type { SamplingScale } from './scale';
import { scaleOf, type Study, type StudyRow } from './study';

/** Where committed results live, and where run directories (checkpoints, git-ignored) go. */
export const RESULTS_ROOT = repoPath('results', 'ablations');
export const RUNS_ROOT = repoPath('.cache', 'ablations');

export interface SweepDirs {
  results: string;
  runs: string;
}

/** The default folders of a profile: smoke sweeps never write into the committed results. */
export function defaultDirs(profile: Profile): SweepDirs {
  if (profile === 'smoke') return { results: repoPath('.cache', 'ablations-smoke', 'results'), runs: repoPath('.cache', 'ablations-smoke', 'runs') };
  return { results: profile === 'small' ? RESULTS_ROOT : path.join(RESULTS_ROOT, profile), runs: RUNS_ROOT };
}

export interface EvalSettings extends EvalSizes {
  cfg: number;
  seed: number;
  /** Kept checkpoints evaluated along training (studies with scale.evalSteps only; absent otherwise, so Table 3's hashes stay). */
  steps?: number[];
}

/** What the sampling stage measures on a trained run (its hash keys the stage's result file). */
export type SamplingSettings = Omit<SamplingScale, 'seeds'> & { cfg: number; seed: number };

/** 'train': train, evaluate, seed<k>.json; 'sampling': the study's sampling step on the trained run, seed<k>-sampling.json. */
export type Stage = 'train' | 'sampling';

export interface PlannedRun {
  study: string;
  row: string;
  seed: number;
  profile: Profile;
  stage: Stage;
  config: TrainConfig;
  configHash: string;
  eval: EvalSettings;
  /** The sampling stage's settings; its result file is keyed by their hash (evalHash holds it then). */
  sampling?: SamplingSettings;
  evalHash: string;
  runDir: string;
  resultFile: string;
  command: string;
  status: 'done' | 'stale' | 'pending';
}

/** JSON with object keys sorted at every level: the same config always hashes the same. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (x && typeof x === 'object')
    return `{${Object.keys(x as object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((x as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(x);
}

export function hashOf(x: unknown): string {
  return crypto.createHash('sha256').update(canonicalJson(x)).digest('hex').slice(0, 12);
}

/** The full training config of one row and seed: preset (the row's, else the scale's), then study base, then profile, then row (and the profile's sets for the row). */
export function rowConfig(study: Study, row: StudyRow, seed: number, profile: Profile): TrainConfig {
  const scale = scaleOf(study, profile);
  const sets = [...study.base, ...scale.sets, ...row.sets, ...(scale.rowSets?.[row.name] ?? []), `seed=${seed}`, `sample.steps=${scale.eval.sampleSteps}`];
  const c = applyOverrides(presetConfig(row.preset ?? scale.preset), sets);
  validateConfig(c);
  return c;
}

export function rowsOf(study: Study, only?: string[]): StudyRow[] {
  if (!only || only.length === 0) return study.rows;
  return only.map((name) => {
    const row = study.rows.find((r) => r.name === name);
    if (!row) throw invalidValue('--rows', name, study.rows.map((r) => r.name).join(', '));
    return row;
  });
}

/** Seeds 0..n-1 of a row: n from --seeds, else the row's own count, else its scale's (the sampling stage: at most scale.sampling.seeds). */
export function seedsOf(study: Study, row: StudyRow, profile: Profile, seeds?: number, stage: Stage = 'train'): number[] {
  const scale = scaleOf(study, profile);
  let n = seeds ?? row.seeds?.[profile] ?? scale.seeds;
  if (stage === 'sampling' && seeds === undefined) n = Math.min(n, scale.sampling?.seeds ?? n);
  return Array.from({ length: n }, (_, k) => k);
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null; // missing or damaged: not done
  }
}

/** A folder as a command line shows it: relative to the repository when inside it. */
function shownPath(dir: string): string {
  const rel = path.relative(REPO_ROOT, dir);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
}

/** The folder flags a command line needs to name these dirs (none for a profile's default, but always for smoke). */
export function dirFlagsOf(profile: Profile, dirs: SweepDirs): string {
  return profile === 'smoke' || dirs.results !== defaultDirs(profile).results ? ` --results-dir ${shownPath(dirs.results)} --runs-dir ${shownPath(dirs.runs)}` : '';
}

export function planRun(study: Study, row: StudyRow, seed: number, profile: Profile, dirs: SweepDirs, stage: Stage = 'train'): PlannedRun {
  const config = rowConfig(study, row, seed, profile);
  const configHash = hashOf(config);
  const scale = scaleOf(study, profile);
  const { sampleSteps, ...sizes } = scale.eval;
  const cfg = row.cfg ?? study.cfg;
  const evalSettings: EvalSettings = { ...sizes, sampleSteps, cfg, seed: 0, ...(scale.evalSteps ? { steps: scale.evalSteps } : {}) };
  let sampling: SamplingSettings | undefined;
  if (stage === 'sampling') {
    if (!scale.sampling) throw invalidValue('--sampling', study.name, `a study with a sampling step (${profile} profile)`);
    const { seeds: _seeds, ...measured } = scale.sampling;
    sampling = { ...measured, cfg, seed: 0 };
  }
  const evalHash = hashOf(sampling ?? evalSettings);
  const resultFile = path.join(dirs.results, study.name, row.name, stage === 'sampling' ? `seed${seed}-sampling.json` : `seed${seed}.json`);
  const prev = readJson(resultFile);
  const status = !prev ? 'pending' : prev.config_hash === configHash && prev.eval_hash === evalHash ? 'done' : 'stale';
  const dirFlags = dirFlagsOf(profile, dirs);
  return {
    study: study.name, row: row.name, seed, profile, stage, config, configHash, eval: evalSettings, ...(sampling ? { sampling } : {}), evalHash,
    runDir: path.join(dirs.runs, configHash), resultFile,
    command: `npx crossflow ablate ${study.name} --profile ${profile} --rows ${row.name} --seed ${seed}${stage === 'sampling' ? ' --sampling' : ''}${dirFlags}`,
    status,
  };
}

export function planStudy(study: Study, profile: Profile, dirs: SweepDirs, opts: { rows?: string[]; seeds?: number; seed?: number; stage?: Stage } = {}): PlannedRun[] {
  const stage = opts.stage ?? 'train';
  const rows = rowsOf(study, opts.rows).map((row) => ({ row, seeds: opts.seed !== undefined ? [opts.seed] : seedsOf(study, row, profile, opts.seeds, stage) }));
  // Seed-major: every row's seed 0 first, so a sweep cut short still has complete comparisons.
  const seeds = [...new Set(rows.flatMap((r) => r.seeds))].sort((a, b) => a - b);
  return seeds.flatMap((seed) => rows.filter((r) => r.seeds.includes(seed)).map(({ row }) => planRun(study, row, seed, profile, dirs, stage)));
}
