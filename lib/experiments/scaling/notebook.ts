// What notebooks/30_scaling calls: read the scaling study's results (or first run its sweep, resuming,
// through the same code as `crossflow ablate scaling`), then show the setup, the Table 1 analogue, the
// curves, the verdicts and the closing note, each derived from the numbers.
import { displayBundle } from '../../display/inline';
import { showPlot } from '../../display/plotly';
import { showTable } from '../../display/table';
import { parseProfile, Profile } from '../../notebooks/profile';
import { defaultDirs } from '../plan';
import { sampleGrid } from '../report';
import { scaleOf } from '../study';
import { studyByName } from '../studies/index';
import { sweep } from '../sweep';
import { collectScaling, fillPlannedParams, hasResults, hasSampling, ScalingResults } from './results';
import { measureScalingSpeed, readSpeed } from './speed';
import { cfgFigure, cfgRows, gapRows, nfeFigure, nfeRows, paramsFigure, paramsTable, scalingConclusions, speedFigure, speedOf, speedRows, speedSetup, stepsFigure, table1Rows, trendRows, writeScalingReport } from './report';

export interface ScalingNotebookParams {
  /** smoke: a tiny sweep into .cache (CI); small: the committed results/ablations/scaling; paper: results/ablations/paper. */
  profile: string;
  /** Run the sweep first (only what is not done: training, evaluation, sampling step, speed) instead of only reading result files. */
  rerun: boolean;
  seeds?: number;
  jobs?: number;
}

/** The study's results, after running its sweeps and report when asked to (progress lines go to the cell's output). */
export async function loadScaling(params: ScalingNotebookParams): Promise<ScalingResults> {
  const study = studyByName('scaling');
  const profile: Profile = parseProfile(params.profile);
  const dirs = defaultDirs(profile);
  if (params.rerun) {
    const log = (m: string) => process.stdout.write(m + '\n');
    for (const stage of ['train', 'sampling'] as const) {
      const s = await sweep(study, { profile, dirs, jobs: params.jobs ?? 1, seeds: params.seeds, stage, log });
      if (s.failed.length) throw new Error(`${s.failed.length} run(s) failed: ${s.failed.map((f) => `${f.run} (log ${f.log})`).join(', ')}`);
    }
    if (!readSpeed(study, profile, dirs).speed) await measureScalingSpeed(study, profile, dirs, { log });
    await writeScalingReport(study, profile, dirs);
  }
  const res = collectScaling(study, profile, dirs);
  await fillPlannedParams(res);
  return res;
}

/** How many runs were read, and the command that makes the rest. */
export function scalingSummary(res: ScalingResults): string {
  const runs = res.base.rows.reduce((s, r) => s + r.bySeed.size, 0);
  const sampling = res.sizes.reduce((s, x) => s + x.crossflow.sampling.size + x.baseline.sampling.size, 0);
  return `${runs} training runs and ${sampling} sampling measurements read for profile ${res.profile}` +
    (hasResults(res) ? '' : `: no results yet; run npx crossflow ablate scaling --profile ${res.profile} --jobs 2`);
}

/** The rows, their presets and parameter counts (what each count includes), and the scale. */
export function showScalingSetup(res: ScalingResults): void {
  const scale = scaleOf(res.study, res.profile);
  showTable(paramsTable(res), { caption: 'Parameters: flow transformer (+ cross-attention for the baseline) + Text VE are counted; the frozen text encoder, the autoencoder and CrossFlow\'s training-only image encoder are not' });
  showTable(
    res.study.rows.map((r) => ({ row: r.label, preset: r.preset ?? scale.preset, '--set': [...res.study.base, ...scale.sets, ...r.sets].join(' '), seeds: r.seeds?.[res.profile] ?? scale.seeds, 'results read': res.base.rows.find((x) => x.row.name === r.name)!.bySeed.size })),
    { caption: `Scale at profile ${res.profile}: evaluated at steps ${scale.evalSteps?.join(', ') ?? '(the last)'}, w = ${res.study.cfg}, ${scale.eval.sampleSteps} Euler steps` },
  );
}

/** Table 1 beside ours at the largest matched size. */
export function showTable1(res: ScalingResults): void {
  if (!hasResults(res)) return;
  showTable(table1Rows(res), { caption: 'Table 1 (paper, COCO, 300K steps) beside ours at the largest matched size (Shapes, FID-1K in judge features): mean ± sd [95% bootstrap interval]' });
}

/** Metrics against parameters (log axis) and against training steps, with bands. */
export async function showScalingCurves(res: ScalingResults): Promise<void> {
  if (!hasResults(res)) return;
  await showPlot(paramsFigure(res));
  await showPlot(stepsFigure(res));
}

/** The gap by size and step, and the verdicts on size and steps. */
export function showScalingVerdicts(res: ScalingResults): void {
  if (!hasResults(res)) return;
  showTable(gapRows(res), { caption: 'CrossFlow minus flow matching, paired by seed, at each size and kept checkpoint (95% bootstrap interval; a verdict only when it excludes zero)' });
  showTable(trendRows(res), { caption: 'Does CrossFlow gain more from size, and from steps? (the gap is CrossFlow minus the baseline)' });
}

/** Quality against evaluations (Euler and Heun), and against the guidance weight. */
export async function showSampling(res: ScalingResults): Promise<void> {
  if (!hasSampling(res)) {
    displayBundle({ 'text/markdown': `No sampling-stage results for profile ${res.profile} yet: \`npx crossflow ablate scaling --profile ${res.profile} --sampling\`.` });
    return;
  }
  await showPlot(nfeFigure(res));
  showTable(nfeRows(res), { caption: 'Quality at each solver and number of velocity evaluations (last checkpoint)' });
  const byCfg = cfgRows(res);
  if (byCfg.length) {
    await showPlot(cfgFigure(res));
    showTable(byCfg, { caption: `Quality at each guidance weight w (Euler, last checkpoint; the rest of the study uses w = ${res.study.cfg})` });
  }
}

/** Images per second of each family at each size, measured alone on the machine (`--speed`). */
export async function showSpeed(res: ScalingResults): Promise<void> {
  const speed = speedOf(res);
  if (!speed) {
    displayBundle({ 'text/markdown': `No speed measurement for profile ${res.profile} yet: \`npx crossflow ablate scaling --profile ${res.profile} --speed\` (alone on the machine).` });
    return;
  }
  displayBundle({ 'text/markdown': speedSetup(speed) });
  await showPlot(speedFigure(speed));
  showTable(speedRows(speed), { caption: 'Images per second (Euler), CrossFlow against flow matching with cross-attention: mean ± sd over rounds; ratio paired by round [95% bootstrap interval]' });
}

/** Seed 0 of every row at the end of training, on the same captions. */
export async function showScalingSamples(res: ScalingResults): Promise<void> {
  const grid = hasResults(res) ? await sampleGrid(res.base) : null;
  if (grid) displayBundle({ 'image/png': grid });
}

export function showScalingConclusions(res: ScalingResults): void {
  displayBundle({ 'text/markdown': scalingConclusions(res).map((s) => `- ${s}`).join('\n') });
}
