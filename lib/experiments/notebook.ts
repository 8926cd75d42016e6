// What the ablation notebooks (notebooks/10-14) call: read a study's results (or first run its sweep,
// resuming, through the same code as `crossflow ablate`), then show the ours-vs-paper table, the
// verdicts, the figures and the conclusions, each derived from the numbers.
import { displayBundle } from '../display/inline';
import { showPlot } from '../display/plotly';
import { showTable } from '../display/table';
import { parseProfile, Profile } from '../notebooks/profile';
import { METRICS, MetricName } from '../runs/evaluate';
import { defaultDirs } from './plan';
import { collectResults, formatSummary, HEADLINE, metricsFigure, orderingVerdict, sampleGrid, StudyResults, writeOverview, writeStudyReport } from './report';
import { studyByName } from './studies/index';
import { sweep } from './sweep';

export interface StudyNotebookParams {
  /** smoke: a tiny sweep into .cache (CI); small: the committed results/ablations; paper: results/ablations/paper. */
  profile: string;
  /** Run the sweep first (only what is not done) instead of only reading result files. */
  rerun: boolean;
  seeds?: number;
  jobs?: number;
}

/** The study's results, after running its sweep when asked to (progress lines go to the cell's output). */
export async function loadStudy(name: string, params: StudyNotebookParams): Promise<StudyResults> {
  const study = studyByName(name);
  const profile: Profile = parseProfile(params.profile);
  const dirs = defaultDirs(profile);
  if (params.rerun) {
    const s = await sweep(study, { profile, dirs, jobs: params.jobs ?? 1, seeds: params.seeds, log: (m) => process.stdout.write(m + '\n') });
    if (s.failed.length) throw new Error(`${s.failed.length} run(s) failed: ${s.failed.map((f) => `${f.run} (log ${f.log})`).join(', ')}`);
    await writeStudyReport(study, profile, dirs);
    writeOverview(profile, dirs);
  }
  return collectResults(study, profile, dirs);
}

const labelOf = (m: MetricName) => METRICS.find((x) => x.name === m)!.label;

/** Ours beside the paper: one row per study row. */
export function showStudyTable(res: StudyResults): void {
  const rows = res.rows.map((r) => ({
    row: r.row.label,
    '--set': r.row.sets.join(' '),
    w: r.row.cfg ?? res.study.cfg,
    seeds: r.bySeed.size,
    'paper FID': r.row.paper ? r.row.paper.fid : '–',
    'paper CLIP': r.row.paper ? r.row.paper.clip : '–',
    ...Object.fromEntries(HEADLINE.map((m) => [labelOf(m) + (m === 'fid' || m === 'clip_score' ? '' : ' (%)'), formatSummary(r.stats[m], m)])),
  }));
  showTable(rows, { caption: `Table ${res.study.block} at profile ${res.profile}: mean ± sd over seeds [95% bootstrap interval]` });
}

/** Paired differences with verdicts, one row per compared pair. */
export function showVerdicts(res: StudyResults): void {
  const label = (n: string) => res.study.rows.find((r) => r.name === n)!.label;
  showTable(
    res.comparisons.map((c) => ({
      comparison: `${label(c.b)} vs ${label(c.a)}`,
      seeds: c.diff.fid.seeds.length,
      ...Object.fromEntries(HEADLINE.map((m) => [labelOf(m), c.diff[m].n ? `${formatSummary(c.diff[m], m)}: ${c.diff[m].verdict}` : '–'])),
    })),
    { caption: 'Second row minus first over shared seeds, 95% bootstrap interval; a verdict only when the interval excludes zero' },
  );
}

/** The bar figure with error bars and the sample grid. */
export async function showStudyFigures(res: StudyResults): Promise<void> {
  if (!res.rows.some((r) => r.bySeed.size > 0)) return;
  await showPlot(metricsFigure(res));
  const grid = await sampleGrid(res);
  if (grid) displayBundle({ 'image/png': grid });
}

/** Sentences that follow from the verdicts: for each compared pair, what the paper found and what we find. */
export function conclusions(res: StudyResults): string[] {
  if (!res.rows.some((r) => r.bySeed.size > 0)) return [`No results for ${res.study.name} at profile ${res.profile} yet: run \`npx crossflow ablate ${res.study.name} --profile ${res.profile}\`, or set rerun = true above.`];
  const label = (n: string) => res.study.rows.find((r) => r.name === n)!.label;
  const paperOf = (n: string) => res.study.rows.find((r) => r.name === n)!.paper;
  const out: string[] = [];
  for (const c of res.comparisons) {
    const pa = paperOf(c.a);
    const pb = paperOf(c.b);
    const paper = pa && pb ? (pb.fid < pa.fid ? `the paper finds ${label(c.b)} better (FID ${pb.fid} vs ${pa.fid})` : pb.fid > pa.fid ? `the paper finds ${label(c.b)} worse (FID ${pb.fid} vs ${pa.fid})` : 'the paper finds them equal') : 'the paper has no number for one of them';
    const d = c.diff.fid;
    const ours =
      d.verdict === 'too few seeds'
        ? `we have ${d.seeds.length} shared seed(s), too few for a verdict`
        : `we find ${label(c.b)} ${d.verdict === 'no difference' ? 'no different in FID' : `${d.verdict} in FID`} (difference ${formatSummary(d, 'fid')} over ${d.seeds.length} seeds)` +
          `, and ${c.diff.single_seen.verdict === 'no difference' ? 'no different' : c.diff.single_seen.verdict} on seen single-object prompts (${formatSummary(c.diff.single_seen, 'single_seen')} points)`;
    out.push(`${label(c.b)} vs ${label(c.a)}: ${paper}; ${ours}.`);
  }
  const ord = orderingVerdict(res);
  out.push(ord.reproduced === null ? `Ordering: ${ord.text}.` : `Ordering by FID ${ord.reproduced ? 'reproduces' : 'does not reproduce'} the paper's: ${ord.text}.`);
  return out;
}

export function showConclusions(res: StudyResults): void {
  displayBundle({ 'text/markdown': conclusions(res).map((s) => `- ${s}`).join('\n') });
}
