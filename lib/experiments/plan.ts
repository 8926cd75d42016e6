// What a sweep would run: every row x seed of a study at a profile, each keyed by a hash of its full
// config (the run directory) and of its evaluation settings, with the result file it writes and the
// one command that repeats it. A result file whose hashes differ from today's is stale: it is never
// read into a report and the run is redone.
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
import { SCALES } from './scale';
import type { Study, StudyRow } from './study';

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
}

export interface PlannedRun {
  study: string;
  row: string;
  seed: number;
  profile: Profile;
  config: TrainConfig;
  configHash: string;
  eval: EvalSettings;
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

/** The full training config of one row and seed: preset, then study base, then profile, then row. */
export function rowConfig(study: Study, row: StudyRow, seed: number, profile: Profile): TrainConfig {
  const scale = SCALES[profile];
  const c = applyOverrides(presetConfig(scale.preset), [...study.base, ...scale.sets, ...row.sets, `seed=${seed}`, `sample.steps=${scale.eval.sampleSteps}`]);
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

export function seedsOf(profile: Profile, seeds?: number): number[] {
  return Array.from({ length: seeds ?? SCALES[profile].seeds }, (_, k) => k);
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

export function planRun(study: Study, row: StudyRow, seed: number, profile: Profile, dirs: SweepDirs): PlannedRun {
  const config = rowConfig(study, row, seed, profile);
  const configHash = hashOf(config);
  const { sampleSteps, ...sizes } = SCALES[profile].eval;
  const evalSettings: EvalSettings = { ...sizes, sampleSteps, cfg: row.cfg ?? study.cfg, seed: 0 };
  const evalHash = hashOf(evalSettings);
  const resultFile = path.join(dirs.results, study.name, row.name, `seed${seed}.json`);
  const prev = readJson(resultFile);
  const status = !prev ? 'pending' : prev.config_hash === configHash && prev.eval_hash === evalHash ? 'done' : 'stale';
  const dirFlags = profile === 'smoke' || dirs.results !== defaultDirs(profile).results ? ` --results-dir ${shownPath(dirs.results)} --runs-dir ${shownPath(dirs.runs)}` : '';
  return {
    study: study.name, row: row.name, seed, profile, config, configHash, eval: evalSettings, evalHash,
    runDir: path.join(dirs.runs, configHash), resultFile,
    command: `npx crossflow ablate ${study.name} --profile ${profile} --rows ${row.name} --seed ${seed}${dirFlags}`,
    status,
  };
}

export function planStudy(study: Study, profile: Profile, dirs: SweepDirs, opts: { rows?: string[]; seeds?: number; seed?: number } = {}): PlannedRun[] {
  const seeds = opts.seed !== undefined ? [opts.seed] : seedsOf(profile, opts.seeds);
  // Seed-major: every row's seed 0 first, so a sweep cut short still has complete comparisons.
  const rows = rowsOf(study, opts.rows);
  return seeds.flatMap((seed) => rows.map((row) => planRun(study, row, seed, profile, dirs)));
}
