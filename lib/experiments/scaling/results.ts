// The scaling study's numbers, read from its result files (never by hand): per row and kept checkpoint the
// metrics over seeds; per size the paired CrossFlow-minus-baseline gap at each checkpoint; whether the gap
// moves CrossFlow's way with size (largest minus smallest size, and the slope against log10 parameters) and
// with training steps (last checkpoint minus first, per seed), each with a 95% bootstrap interval and a
// verdict read from that interval; and the sampling stage's quality-vs-evaluations points.
import * as fs from 'fs';
import * as path from 'path';
import { quantileSorted } from 'simple-statistics';
import { makeRng } from '../../data/rng';
import { buildModels } from '../../models/crossflow';
import { loadTextEncoder } from '../../text/registry';
import type { Profile } from '../../notebooks/profile';
import { REPO_ROOT } from '../../paths';
import { METRICS, MetricName } from '../../runs/evaluate';
import { planRun, rowConfig, SweepDirs } from '../plan';
import { collectResults, RowResults, StudyResults } from '../report';
import type { SamplingResult } from '../sampling';
import { BOOTSTRAP_RESAMPLES, pairedDifference, PairedDifference, summarize, Summary } from '../stats';
import type { Study } from '../study';

export type Family = 'crossflow' | 'baseline';

export interface StepStats {
  step: number;
  stats: Record<MetricName, Summary>;
}

export interface ScalingRow {
  results: RowResults;
  family: Family;
  /** Parameter counts of its runs (the first result file's; every seed has the same; fillPlannedParams: of its config). */
  params: { flow: number; ve: number; aux: number; model: number } | null;
  /** Metrics over seeds at each kept checkpoint, in step order. */
  steps: StepStats[];
  /** The sampling stage's results by seed (files matching today's settings). */
  sampling: Map<number, SamplingResult>;
}

export interface SizeResults {
  size: string;
  crossflow: ScalingRow;
  baseline: ScalingRow;
  /** CrossFlow minus baseline, paired by seed, at each kept checkpoint (the last is the run's end). */
  gapByStep: Array<{ step: number; diff: Record<MetricName, PairedDifference> }>;
  /** Per seed: the gap at the last checkpoint minus the gap at the first (a move CrossFlow's way: it gains more from steps). */
  stepGain: Record<MetricName, PairedDifference>;
}

export type TrendVerdictText = 'CrossFlow gains more' | 'CrossFlow gains less' | 'no difference' | 'too few seeds';

export interface Trend {
  estimate: number;
  ci: [number, number];
  /** Seeds behind each group (size) that went in. */
  n: number[];
  verdict: TrendVerdictText;
}

export interface ScalingResults {
  study: Study;
  profile: Profile;
  dirs: SweepDirs;
  /** The generic per-row results (final checkpoint), as Table 3's reports read them. */
  base: StudyResults;
  sizes: SizeResults[];
  /** For each size but the smallest: its gap minus the smallest size's (last checkpoint), sizes resampled independently. */
  sizeChanges: Array<{ size: string; trend: Record<MetricName, Trend> }>;
  /** Slope of the gap (last checkpoint) against log10 of the parameters over every size (a verdict only when each has >= 3 seeds). */
  sizeSlope: Record<MetricName, Trend>;
  /** The same slope over the sizes that have >= 3 paired seeds, when that is at least two sizes but not all. */
  sizeSlopeEnough: { sizes: string[]; trend: Record<MetricName, Trend> } | null;
  /** Step gain averaged over the sizes with at least 3 paired seeds (named in `pooledSizes`). */
  stepGain: Record<MetricName, Trend>;
  pooledSizes: string[];
  /** Sampling result files left out (another config or sampling settings). */
  staleSampling: string[];
}

/** A verdict needs at least this many paired seeds in every group (as pairedDifference's). */
export const MIN_SEEDS = 3;

const metricOf = (m: MetricName) => METRICS.find((x) => x.name === m)!;

/** A change of the CrossFlow-minus-baseline gap read as "CrossFlow gains more / less". */
export function gainVerdict(ci: [number, number], m: MetricName, enough: boolean): TrendVerdictText {
  if (!enough) return 'too few seeds';
  const up = metricOf(m).higherIsBetter;
  if (ci[0] > 0) return up ? 'CrossFlow gains more' : 'CrossFlow gains less';
  if (ci[1] < 0) return up ? 'CrossFlow gains less' : 'CrossFlow gains more';
  return 'no difference';
}

/** 95% percentile-bootstrap interval of stat(means of groups), each group resampled on its own (seeded by `key`). */
export function bootstrapGroups(groups: number[][], stat: (means: number[]) => number, key: string, resamples = BOOTSTRAP_RESAMPLES): [number, number] {
  if (groups.some((g) => g.length === 0)) return [NaN, NaN];
  const rng = makeRng(`bootstrap:${key}`);
  const values = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const means = groups.map((g) => {
      let s = 0;
      for (let i = 0; i < g.length; i++) s += g[rng.int(g.length)];
      return s / g.length;
    });
    values[r] = stat(means);
  }
  const sorted = Array.from(values).sort((a, b) => a - b);
  return [quantileSorted(sorted, 0.025), quantileSorted(sorted, 0.975)];
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Least-squares slope of y on x. */
export function slope(x: number[], y: number[]): number {
  const mx = mean(x);
  const my = mean(y);
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

function trend(groups: number[][], stat: (means: number[]) => number, m: MetricName, key: string): Trend {
  const n = groups.map((g) => g.length);
  if (groups.length === 0 || n.some((k) => k === 0)) return { estimate: NaN, ci: [NaN, NaN], n, verdict: 'too few seeds' };
  const ci = bootstrapGroups(groups, stat, key);
  return { estimate: stat(groups.map(mean)), ci, n, verdict: gainVerdict(ci, m, n.every((k) => k >= MIN_SEEDS)) };
}

/** seed -> metric at a kept step (or the run's end when step is null). */
function series(row: RowResults, m: MetricName, step: number | null): Map<number, number> {
  const out = new Map<number, number>();
  for (const [seed, r] of row.bySeed) {
    const v = step === null ? r.metrics[m] : r.checkpoints?.find((c) => c.step === step)?.metrics[m];
    if (typeof v === 'number' && Number.isFinite(v)) out.set(seed, v);
  }
  return out;
}

function stepsOf(rows: RowResults[]): number[] {
  return [...new Set(rows.flatMap((r) => [...r.bySeed.values()].flatMap((x) => (x.checkpoints ?? []).map((c) => c.step))))].sort((a, b) => a - b);
}

/** The sampling-stage result files of a row that match today's config and sampling settings. */
function collectSampling(study: Study, row: RowResults, profile: Profile, dirs: SweepDirs, stale: string[]): Map<number, SamplingResult> {
  const dir = path.join(dirs.results, study.name, row.row.name);
  const out = new Map<number, SamplingResult>();
  if (!fs.existsSync(dir) || !study.scales?.[profile]?.sampling) return out;
  for (const f of fs.readdirSync(dir).filter((x) => /^seed\d+-sampling\.json$/.test(x))) {
    const seed = Number(/^seed(\d+)/.exec(f)![1]);
    const file = path.join(dir, f);
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as SamplingResult;
    const planned = planRun(study, row.row, seed, profile, dirs, 'sampling');
    if (r.config_hash === planned.configHash && r.eval_hash === planned.evalHash) out.set(seed, r);
    else stale.push(path.relative(REPO_ROOT, file));
  }
  return out;
}

/** The study's size pairs from its `compare` list: [baseline row, CrossFlow row], smallest size first. */
export function sizePairs(study: Study): Array<{ size: string; baseline: string; crossflow: string }> {
  return study.compare.map(([baseline, crossflow]) => ({ size: crossflow, baseline, crossflow }));
}

export function collectScaling(study: Study, profile: Profile, dirs: SweepDirs): ScalingResults {
  const base = collectResults(study, profile, dirs);
  const staleSampling: string[] = [];
  const rowOf = (name: string, family: Family): ScalingRow => {
    const results = base.rows.find((r) => r.row.name === name)!;
    const first = [...results.bySeed.values()][0];
    const steps = stepsOf([results]).map((step) => ({
      step,
      stats: Object.fromEntries(METRICS.map((m) => [m.name, summarize([...series(results, m.name, step).values()], `${study.name}:${name}:${step}:${m.name}`)])) as Record<MetricName, Summary>,
    }));
    return { results, family, params: first ? first.params : null, steps, sampling: collectSampling(study, results, profile, dirs, staleSampling) };
  };
  const sizes: SizeResults[] = sizePairs(study).map(({ size, baseline, crossflow }) => {
    const cf = rowOf(crossflow, 'crossflow');
    const fm = rowOf(baseline, 'baseline');
    const steps = stepsOf([cf.results, fm.results]);
    const gapByStep = steps.map((step) => ({
      step,
      diff: Object.fromEntries(
        METRICS.map((m) => [m.name, pairedDifference(series(fm.results, m.name, step), series(cf.results, m.name, step), m.higherIsBetter, `${study.name}:gap:${size}:${step}:${m.name}`)]),
      ) as Record<MetricName, PairedDifference>,
    }));
    const stepGain = Object.fromEntries(
      METRICS.map((m) => {
        if (steps.length < 2) return [m.name, pairedDifference(new Map(), new Map(), m.higherIsBetter, 'none')];
        const first = gapSeries(cf.results, fm.results, m.name, steps[0]);
        const last = gapSeries(cf.results, fm.results, m.name, steps[steps.length - 1]);
        return [m.name, pairedDifference(first, last, m.higherIsBetter, `${study.name}:stepgain:${size}:${m.name}`)];
      }),
    ) as Record<MetricName, PairedDifference>;
    return { size, crossflow: cf, baseline: fm, gapByStep, stepGain };
  });
  // The gap at the run's end per size, as per-seed values (the seeds both rows have).
  const finalGaps = (m: MetricName) => sizes.map((s) => [...gapSeries(s.crossflow.results, s.baseline.results, m, null).values()]);
  // Sizes sit at the geometric mean of their two rows' parameter counts.
  const logParams = sizes.map((s) => Math.log10(Math.sqrt((s.crossflow.params?.model ?? NaN) * (s.baseline.params?.model ?? NaN))));
  const sizeChanges = sizes.slice(1).map((s) => ({ size: s.size, trend: {} as Record<MetricName, Trend> }));
  const sizeSlope = {} as Record<MetricName, Trend>;
  const stepGain = {} as Record<MetricName, Trend>;
  const pooled = sizes.filter((s) => s.stepGain.fid.seeds.length >= MIN_SEEDS);
  const enough = sizes.map((s, i) => i).filter((i) => finalGaps('fid')[i].length >= MIN_SEEDS && Number.isFinite(logParams[i]));
  const sizeSlopeEnough = enough.length >= 2 && enough.length < sizes.length ? { sizes: enough.map((i) => sizes[i].size), trend: {} as Record<MetricName, Trend> } : null;
  const slopeOver = (idx: number[], gaps: number[][], m: MetricName, key: string): Trend =>
    idx.length >= 2 && idx.every((i) => gaps[i].length > 0 && Number.isFinite(logParams[i]))
      ? trend(idx.map((i) => gaps[i]), (v) => slope(idx.map((i) => logParams[i]), v), m, key)
      : { estimate: NaN, ci: [NaN, NaN], n: idx.map((i) => gaps[i].length), verdict: 'too few seeds' };
  for (const m of METRICS) {
    const gaps = finalGaps(m.name);
    sizeChanges.forEach((c, k) => (c.trend[m.name] = trend([gaps[0], gaps[k + 1]], (v) => v[1] - v[0], m.name, `${study.name}:sizechange:${c.size}:${m.name}`)));
    sizeSlope[m.name] = slopeOver(sizes.map((_, i) => i), gaps, m.name, `${study.name}:sizeslope:${m.name}`);
    if (sizeSlopeEnough) sizeSlopeEnough.trend[m.name] = slopeOver(enough, gaps, m.name, `${study.name}:sizeslope:${sizeSlopeEnough.sizes.join(',')}:${m.name}`);
    const perSeed = pooled.map((s) => stepGainValues(s, m.name));
    stepGain[m.name] = pooled.length ? trend(perSeed, (v) => mean(v), m.name, `${study.name}:stepgain:${m.name}`) : { estimate: NaN, ci: [NaN, NaN], n: [], verdict: 'too few seeds' };
  }
  return { study, profile, dirs, base, sizes, sizeChanges, sizeSlope, sizeSlopeEnough, stepGain, pooledSizes: pooled.map((s) => s.size), staleSampling };
}

/** seed -> CrossFlow minus baseline at a kept step (null: the run's end), over the seeds both rows have. */
function gapSeries(crossflow: RowResults, baseline: RowResults, m: MetricName, step: number | null): Map<number, number> {
  const a = series(crossflow, m, step);
  const b = series(baseline, m, step);
  return new Map([...a].filter(([k]) => b.has(k)).map(([k, v]) => [k, v - b.get(k)!]));
}

/** Per seed: gap at the last checkpoint minus gap at the first. */
function stepGainValues(s: SizeResults, m: MetricName): number[] {
  const steps = s.gapByStep.map((g) => g.step);
  const first = gapSeries(s.crossflow.results, s.baseline.results, m, steps[0]);
  const last = gapSeries(s.crossflow.results, s.baseline.results, m, steps[steps.length - 1]);
  return [...last].filter(([k]) => first.has(k)).map(([k, v]) => v - first.get(k)!);
}

/** The step gain's verdict in the gain vocabulary (pairedDifference's better/worse are about the gap moving CrossFlow's way). */
export function stepGainVerdict(d: PairedDifference): TrendVerdictText {
  if (d.verdict === 'better') return 'CrossFlow gains more';
  if (d.verdict === 'worse') return 'CrossFlow gains less';
  return d.verdict;
}

/** Fills the parameter counts of rows without results from their configs (models built, then disposed), for setup tables. */
export async function fillPlannedParams(res: ScalingResults): Promise<void> {
  for (const s of res.sizes)
    for (const r of [s.crossflow, s.baseline]) {
      if (r.params) continue;
      const c = rowConfig(res.study, r.results.row, 0, res.profile);
      const text = await loadTextEncoder(c.text.encoder);
      const m = buildModels(c, { size: c.data.imageSize / 4, channels: c.autoencoder.latentChannels }, { tokens: text.maxTokens, dim: text.dim });
      r.params = m.counts;
      m.dispose();
      text.dispose();
    }
}

export function hasResults(res: ScalingResults): boolean {
  return res.base.rows.some((r) => r.bySeed.size > 0);
}

export function hasSampling(res: ScalingResults): boolean {
  return res.sizes.some((s) => s.crossflow.sampling.size > 0 || s.baseline.sampling.size > 0);
}

export interface NfePoint {
  solver: string;
  nfe: number;
  steps: number;
  cfg: number;
  stats: Record<MetricName, Summary>;
}

function samplingCurve(row: ScalingRow, key: string, keep: (p: { solver: string; steps: number; cfg: number }, r: SamplingResult) => boolean): NfePoint[] {
  const results = [...row.sampling.values()];
  if (!results.length) return [];
  const cfgOf = (p: { cfg?: number }, r: SamplingResult) => p.cfg ?? r.sampling_settings.cfg;
  return results[0].points
    .map((p, i) => ({ p: { ...p, cfg: cfgOf(p, results[0]) }, i }))
    .filter(({ p }) => keep(p, results[0]))
    .map(({ p, i }) => ({
      solver: p.solver, steps: p.steps, nfe: p.nfe, cfg: p.cfg,
      stats: Object.fromEntries(METRICS.map((m) => [m.name, summarize(results.map((r) => r.points[i]?.metrics[m.name] ?? NaN), `${key}:${p.solver}:${p.steps}:${p.cfg}:${m.name}`)])) as Record<MetricName, Summary>,
    }));
}

/** A row's sampling-stage points at the study's guidance weight over its measured seeds: one per solver and step count. */
export function nfeCurve(row: ScalingRow, key: string): NfePoint[] {
  return samplingCurve(row, key, (p, r) => p.cfg === r.sampling_settings.cfg);
}

/** A row's Euler points at its most steps, one per guidance weight (the study's included), by weight. */
export function cfgCurve(row: ScalingRow, key: string): NfePoint[] {
  const results = [...row.sampling.values()];
  if (!results.length) return [];
  const most = Math.max(...results[0].points.filter((p) => p.solver === 'euler').map((p) => p.steps));
  return samplingCurve(row, key, (p) => p.solver === 'euler' && p.steps === most).sort((a, b) => a.cfg - b.cfg);
}

/** seed -> metric of a row's Euler point at its most steps and weight `cfg`. */
function cfgSeries(row: ScalingRow, cfg: number, m: MetricName): Map<number, number> {
  const out = new Map<number, number>();
  for (const [seed, r] of row.sampling) {
    const most = Math.max(...r.points.filter((p) => p.solver === 'euler').map((p) => p.steps));
    const p = r.points.find((q) => q.solver === 'euler' && q.steps === most && (q.cfg ?? r.sampling_settings.cfg) === cfg);
    const v = p?.metrics[m];
    if (typeof v === 'number' && Number.isFinite(v)) out.set(seed, v);
  }
  return out;
}

export interface BestCfg {
  size: string;
  /** Each family's weight with the lowest mean FID, and its point there. */
  crossflow: NfePoint | null;
  baseline: NfePoint | null;
  /** CrossFlow at its best weight minus the baseline at its own, paired by seed. */
  diff: Record<MetricName, PairedDifference> | null;
}

/**
 * Each family at its own best guidance weight (lowest mean FID over the measured seeds), and the gap there.
 * The weight is picked on the same samples it is then scored on, for both families alike.
 */
export function bestCfg(res: ScalingResults): BestCfg[] {
  const best = (row: ScalingRow) => {
    const pts = cfgCurve(row, `${res.study.name}:cfg:${row.results.row.name}`).filter((p) => Number.isFinite(p.stats.fid.mean));
    return pts.length ? pts.reduce((a, b) => (b.stats.fid.mean < a.stats.fid.mean ? b : a)) : null;
  };
  return res.sizes.map((s) => {
    const cf = best(s.crossflow);
    const fm = best(s.baseline);
    const diff = cf && fm
      ? (Object.fromEntries(METRICS.map((m) => [m.name, pairedDifference(cfgSeries(s.baseline, fm.cfg, m.name), cfgSeries(s.crossflow, cf.cfg, m.name), m.higherIsBetter, `${res.study.name}:bestcfg:${s.size}:${m.name}`)])) as Record<MetricName, PairedDifference>)
      : null;
    return { size: s.size, crossflow: cf, baseline: fm, diff };
  });
}
