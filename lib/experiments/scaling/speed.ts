// The scaling study's sampling speed (`crossflow ablate scaling --speed`): images per second of every row,
// guided and unguided, in one process on an otherwise idle machine, so that CrossFlow and the baseline of a
// size are timed under the same conditions. Rounds interleave the rows (within a size the family that goes
// first alternates), so drift in the machine's speed falls on both families alike; CrossFlow's speed
// relative to the baseline's is taken per round, and summarised over rounds with a bootstrap interval.
// Models are untrained (lib/sampling/speed.ts): cost does not depend on the weights, so this needs no run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { currentBackend } from '../../backend/select';
import { generateShapes } from '../../data/shapes/index';
import type { Profile } from '../../notebooks/profile';
import type { LoadedRun } from '../../sampling/generate';
import { timeGenerate, untrainedRun } from '../../sampling/speed';
import { dirFlagsOf, hashOf, rowConfig, SweepDirs } from '../plan';
import { gitCommit, writeFileAtomic } from '../runOne';
import type { SpeedScale } from '../scale';
import { summarize, Summary } from '../stats';
import { scaleOf, Study, StudyRow } from '../study';
import { sizePairs } from './results';

export interface RowSpeed {
  row: string;
  size: string;
  family: 'crossflow' | 'baseline';
  guidance: string;
  cfg: number;
  /** Images per second in each round, guided (at cfg) and unguided. */
  guided: number[];
  unguided: number[];
}

/** What results/ablations/<study>/speed.json holds. */
export interface ScalingSpeed {
  study: string;
  profile: string;
  stage: 'speed';
  /** Repeats this measurement (from the repository root). */
  command: string;
  settings: SpeedScale;
  /** Hash of settings and of every row's config: a change to either makes the file stale. */
  settings_hash: string;
  git_commit: string;
  backend: string;
  blas_threads: number | null;
  cpu: string;
  cpus: number;
  /** 1-minute load average per CPU before (above BUSY_LOAD: other work was running) and after (which counts the measurement's own threads). */
  load_per_cpu: { before: number; after: number };
  rows: RowSpeed[];
  seconds: number;
}

export function speedFile(study: Study, dirs: SweepDirs): string {
  return path.join(dirs.results, study.name, 'speed.json');
}

export function loadPerCpu(): number {
  try {
    return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) / os.cpus().length;
  } catch {
    return NaN;
  }
}

function measuredRows(study: Study): Array<{ row: StudyRow; size: string; family: 'crossflow' | 'baseline' }> {
  const byName = (name: string) => {
    const row = study.rows.find((r) => r.name === name);
    if (!row) throw new Error(`${study.name}: no row ${name}`);
    return row;
  };
  return sizePairs(study).flatMap((s) => [
    { row: byName(s.crossflow), size: s.size, family: 'crossflow' as const },
    { row: byName(s.baseline), size: s.size, family: 'baseline' as const },
  ]);
}

/** Keys a speed measurement: its settings and every measured row's config. */
export function speedSettingsHash(study: Study, profile: Profile, settings: SpeedScale): string {
  return hashOf({ settings, configs: measuredRows(study).map((r) => rowConfig(study, r.row, 0, profile)) });
}

/** The committed measurement when it matches today's settings and configs; otherwise why not. */
export function readSpeed(study: Study, profile: Profile, dirs: SweepDirs): { speed: ScalingSpeed | null; stale: string | null } {
  const file = speedFile(study, dirs);
  const settings = scaleOf(study, profile).speed;
  if (!settings || !fs.existsSync(file)) return { speed: null, stale: null };
  const speed = JSON.parse(fs.readFileSync(file, 'utf8')) as ScalingSpeed;
  if (speed.profile !== profile || speed.settings_hash !== speedSettingsHash(study, profile, settings)) return { speed: null, stale: file };
  return { speed, stale: null };
}

export interface SpeedSummary {
  size: string;
  crossflow: { guided: Summary; unguided: Summary };
  baseline: { guided: Summary; unguided: Summary };
  /** CrossFlow's images per second over the baseline's, per round; above 1: CrossFlow is faster. */
  ratio: { guided: Summary; unguided: Summary };
}

/** Per size: each family's speed over rounds, and CrossFlow over baseline paired by round. */
export function summarizeSpeed(speed: ScalingSpeed): SpeedSummary[] {
  return [...new Set(speed.rows.map((r) => r.size))].map((size) => {
    const cf = speed.rows.find((r) => r.size === size && r.family === 'crossflow');
    const fm = speed.rows.find((r) => r.size === size && r.family === 'baseline');
    const of = (r: RowSpeed | undefined, kind: 'guided' | 'unguided') => summarize(r?.[kind] ?? [], `speed:${size}:${r?.family}:${kind}`);
    const ratio = (kind: 'guided' | 'unguided') =>
      summarize(cf && fm ? cf[kind].map((v, i) => v / fm[kind][i]) : [], `speed:${size}:ratio:${kind}`);
    return {
      size,
      crossflow: { guided: of(cf, 'guided'), unguided: of(cf, 'unguided') },
      baseline: { guided: of(fm, 'guided'), unguided: of(fm, 'unguided') },
      ratio: { guided: ratio('guided'), unguided: ratio('unguided') },
    };
  });
}

/** A 1-minute load per CPU above this before measuring: something else is running. */
export const BUSY_LOAD = 0.5;

/** Times every row's sampling in interleaved rounds and writes speed.json. */
export async function measureScalingSpeed(study: Study, profile: Profile, dirs: SweepDirs, opts: { log?: (line: string) => void; settleSeconds?: number } = {}): Promise<ScalingSpeed> {
  const log = opts.log ?? (() => {});
  const settings = scaleOf(study, profile).speed;
  if (!settings) throw new Error(`${study.name}: no speed settings at profile ${profile}`);
  const t0 = Date.now();
  // Right after a sweep the 1-minute load average still counts its finished jobs: let it settle (at most
  // opts.settleSeconds; smoke, in CI: not at all) so that "busy" means other work, not the echo of ours.
  let before = loadPerCpu();
  for (let waited = 0; before > BUSY_LOAD && waited < (opts.settleSeconds ?? (profile === 'smoke' ? 0 : 180)); waited += 10) {
    if (waited === 0) log(`${study.name}: waiting for the load to settle (1-minute load ${before.toFixed(2)} per CPU)`);
    await new Promise((r) => setTimeout(r, 10_000));
    before = loadPerCpu();
  }
  if (before > BUSY_LOAD) log(`${study.name}: the machine is busy (1-minute load ${before.toFixed(2)} per CPU): speeds will be low, and recorded with that load`);
  const rows = measuredRows(study);
  const runs: LoadedRun[] = [];
  try {
    for (const r of rows) runs.push(await untrainedRun(rowConfig(study, r.row, 0, profile), `(untrained ${r.row.name})`));
    const size = runs[0].config.data.imageSize;
    const prompts = generateShapes({ split: 'test', count: settings.images, seed: 0, size }).map((s) => s.caption);
    const out: RowSpeed[] = rows.map((r, i) => ({
      row: r.row.name, size: r.size, family: r.family, guidance: runs[i].config.guidance.mode, cfg: r.row.cfg ?? study.cfg, guided: [], unguided: [],
    }));
    for (let round = 0; round < settings.rounds; round++) {
      // Sizes in order; within a size, CrossFlow first in even rounds and the baseline first in odd ones.
      const order = rows.map((_, i) => i).sort((a, b) => (Math.floor(a / 2) - Math.floor(b / 2)) || (round % 2 ? b - a : a - b));
      for (const i of order) {
        const g = timeGenerate(runs[i], prompts, { cfg: out[i].cfg, steps: settings.steps, batch: settings.batch });
        const u = timeGenerate(runs[i], prompts, { cfg: 1, steps: settings.steps, batch: settings.batch });
        out[i].guided.push(g.images_per_second);
        out[i].unguided.push(u.images_per_second);
        log(`${study.name}: round ${round + 1}/${settings.rounds} ${out[i].row}: ${g.images_per_second.toFixed(2)} images/s guided, ${u.images_per_second.toFixed(2)} unguided`);
      }
    }
    const backend = currentBackend();
    const result: ScalingSpeed = {
      study: study.name, profile, stage: 'speed', command: `npx crossflow ablate ${study.name} --profile ${profile} --speed${dirFlagsOf(profile, dirs)}`,
      settings, settings_hash: speedSettingsHash(study, profile, settings), git_commit: gitCommit(), backend: backend?.backend ?? 'unknown',
      blas_threads: backend?.blasThreads ?? null, cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length,
      load_per_cpu: { before, after: loadPerCpu() }, rows: out, seconds: (Date.now() - t0) / 1000,
    };
    const file = speedFile(study, dirs);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    for (const r of runs) r.dispose();
  }
}
