// Reports written from result files, never by hand: per study REPORT.md (ours beside the paper's
// numbers, the verdicts of every compared pair, whether the paper's ordering is reproduced), the same
// table as a LaTeX booktabs file, a bar figure with error bars per metric and a sample grid (SVG, PNG,
// PDF); and results/ablations/README.md with every study's rows in one table.
import * as fs from 'fs';
import * as path from 'path';
import { exportFigure } from '../display/export';
import { renderImageGrid, RgbImage } from '../display/imageGrid';
import type { PlotlyFigure } from '../display/plotly';
import { readPngRgb } from '../eval/folder';
import type { Profile } from '../notebooks/profile';
import { REPO_ROOT, repoPath } from '../paths';
import { METRICS, MetricName } from '../runs/evaluate';
import { planRun, SweepDirs } from './plan';
import { gridPrompts, RunResult, samplesFileOf, writeFileAtomic } from './runOne';
import { SCALES } from './scale';
import { pairedDifference, PairedDifference, summarize, Summary } from './stats';
import { effectiveSets, paperOrder, Study } from './study';
import { BEYOND_TABLE3, STUDIES, studyByName, TABLE3_STUDIES } from './studies/index';

export interface RowResults {
  row: Study['rows'][number];
  /** seed -> result, only files that match today's config and evaluation (a shared row's may sit under another study). */
  bySeed: Map<number, RunResult>;
  /** seed -> the result file read. */
  files: Map<number, string>;
  stats: Record<MetricName, Summary>;
}

export interface Comparison {
  a: string;
  b: string;
  /** b - a per metric. */
  diff: Record<MetricName, PairedDifference>;
}

export interface StudyResults {
  study: Study;
  profile: Profile;
  dirs: SweepDirs;
  rows: RowResults[];
  comparisons: Comparison[];
  /** Result files left out because their config or evaluation is not today's. */
  stale: string[];
  /** Rows by our mean FID, best first (rows with results only). */
  ourOrder: string[];
  paperOrder: string[];
}

/** The headline metrics of tables and figures (all metrics are in the result files and the stats). */
export const HEADLINE: MetricName[] = ['fid', 'clip_score', 'geneval_overall', 'single_seen', 'single_heldout'];

/** Every result file under the results folder, by "<config hash>:<eval hash>" (rows two studies share are one run). */
function resultIndex(dirs: SweepDirs): Map<string, string> {
  const index = new Map<string, string>();
  if (!fs.existsSync(dirs.results)) return index;
  for (const study of fs.readdirSync(dirs.results, { withFileTypes: true }).filter((e) => e.isDirectory()))
    for (const row of fs.readdirSync(path.join(dirs.results, study.name), { withFileTypes: true }).filter((e) => e.isDirectory()))
      for (const f of fs.readdirSync(path.join(dirs.results, study.name, row.name)).filter((x) => /^seed\d+\.json$/.test(x))) {
        const file = path.join(dirs.results, study.name, row.name, f);
        try {
          const r = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult;
          index.set(`${r.config_hash}:${r.eval_hash}`, file);
        } catch {
          // a damaged file is no result; the sweep redoes its run
        }
      }
  return index;
}

/** Seeds looked for in other studies' folders when a row shares its run with them. */
const SHARED_SEEDS = 10;

export function collectResults(study: Study, profile: Profile, dirs: SweepDirs): StudyResults {
  const stale: string[] = [];
  let index: Map<string, string> | null = null;
  const rows: RowResults[] = study.rows.map((row) => {
    const dir = path.join(dirs.results, study.name, row.name);
    const bySeed = new Map<number, RunResult>();
    const files = new Map<number, string>();
    const own = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^seed\d+\.json$/.test(f)) : [];
    for (const f of own.sort((x, y) => Number(x.slice(4, -5)) - Number(y.slice(4, -5)))) {
      const seed = Number(f.slice(4, -5));
      const file = path.join(dir, f);
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult;
      const planned = planRun(study, row, seed, profile, dirs);
      if (r.config_hash === planned.configHash && r.eval_hash === planned.evalHash) {
        bySeed.set(seed, r);
        files.set(seed, file);
      } else stale.push(path.relative(REPO_ROOT, file));
    }
    // The same run (same config and evaluation) written under another study: a shared row.
    for (let seed = 0; seed < SHARED_SEEDS; seed++) {
      if (bySeed.has(seed)) continue;
      const planned = planRun(study, row, seed, profile, dirs);
      index ??= resultIndex(dirs);
      const file = index.get(`${planned.configHash}:${planned.evalHash}`);
      if (!file) continue;
      bySeed.set(seed, JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult);
      files.set(seed, file);
    }
    const sorted = new Map([...bySeed].sort(([a], [b]) => a - b));
    const stats = Object.fromEntries(
      METRICS.map((m) => [m.name, summarize([...sorted.values()].map((r) => r.metrics[m.name] ?? NaN), `${study.name}:${row.name}:${m.name}`)]),
    ) as Record<MetricName, Summary>;
    return { row, bySeed: sorted, files, stats };
  });
  const byName = new Map(rows.map((r) => [r.row.name, r]));
  const comparisons = study.compare.map(([a, b]) => ({
    a, b,
    diff: Object.fromEntries(
      METRICS.map((m) => {
        const series = (name: string) => new Map([...byName.get(name)!.bySeed].map(([s, r]) => [s, r.metrics[m.name] ?? NaN]));
        return [m.name, pairedDifference(series(a), series(b), m.higherIsBetter, `${study.name}:${a}:${b}:${m.name}`)];
      }),
    ) as Record<MetricName, PairedDifference>,
  }));
  const ourOrder = rows.filter((r) => r.stats.fid.n > 0).sort((x, y) => x.stats.fid.mean - y.stats.fid.mean).map((r) => r.row.name);
  return { study, profile, dirs, rows, comparisons, stale, ourOrder, paperOrder: paperOrder(study) };
}

const isFraction = (m: MetricName) => m !== 'fid';

/** "12.34 ± 0.56 [11.9, 12.8]" (fractions as percent). */
export function formatSummary(s: Summary, m: MetricName, withCi = true): string {
  if (s.n === 0) return '–';
  const k = isFraction(m) && m !== 'clip_score' ? 100 : 1;
  const d = m === 'clip_score' || m === 'r_precision' ? 3 : m === 'fid' ? 2 : 1;
  const kk = m === 'r_precision' ? 1 : k;
  const f = (x: number) => (x * kk).toFixed(d);
  const sd = Number.isFinite(s.sd) ? ` ± ${f(s.sd)}` : '';
  return `${f(s.mean)}${sd}${withCi && s.n > 1 ? ` [${f(s.ci[0])}, ${f(s.ci[1])}]` : ''}`;
}

function unitOf(m: MetricName): string {
  return m === 'fid' || m === 'clip_score' || m === 'r_precision' ? '' : ' (%)';
}

/** Whether our ordering agrees with the paper's on the rows both have, and pair by pair. */
export function orderingVerdict(res: StudyResults): { reproduced: boolean | null; text: string } {
  const rowsWithBoth = res.paperOrder.filter((n) => res.ourOrder.includes(n));
  if (rowsWithBoth.length < 2) return { reproduced: null, text: 'not enough rows with results to compare orderings' };
  const missing = res.paperOrder.filter((n) => !res.ourOrder.includes(n));
  if (missing.length) return { reproduced: null, text: `not yet: ${missing.join(', ')} has no results (so far by mean FID, best first: ${res.ourOrder.filter((n) => rowsWithBoth.includes(n)).join(' < ')})` };
  const ours = res.ourOrder.filter((n) => rowsWithBoth.includes(n));
  const same = ours.join(',') === rowsWithBoth.join(',');
  return {
    reproduced: same,
    text: same
      ? `our mean FID orders the rows as the paper does (best first: ${ours.join(' < ')})`
      : `our mean FID orders the rows ${ours.join(' < ')} (best first); the paper: ${rowsWithBoth.join(' < ')}`,
  };
}

function labelOf(res: StudyResults, name: string): string {
  return res.study.rows.find((r) => r.name === name)!.label;
}

export function markdownReport(res: StudyResults, figures: { metrics: string | null; grid: string | null }): string {
  const { study } = res;
  const scale = SCALES[res.profile];
  const seedsRun = Math.max(0, ...res.rows.map((r) => r.bySeed.size));
  const L: string[] = [];
  L.push(`# Table ${study.block}: ${study.title}`, '');
  L.push(`Generated by \`npx crossflow ablate ${study.name} --profile ${res.profile} --report\` from the result files in this folder; do not edit.`, '');
  L.push(`**The paper:** ${study.paperFinding}`, '');
  L.push(
    `**Setup:** preset \`${scale.preset}\` with \`${scale.sets.join(' ')}\`; base \`--set ${effectiveSets(study.base).join(' ')}\`; evaluated at w = ${study.cfg}` +
      `${study.rows.some((r) => r.cfg !== undefined) ? ' (rows marked otherwise below)' : ''}, ${scale.eval.sampleSteps} Euler steps; ` +
      `FID on ${scale.eval.fidCount} samples against ${scale.eval.realCount} real test images in the Shapes judge's feature space; ` +
      `single-object accuracy on ${scale.eval.perPromptSeen} samples per seen pair and ${scale.eval.perPromptHeldout} per held-out pair. ` +
      `Each row: mean ± sd over seeds [95% bootstrap interval]. Repeat one run with the \`command\` in its \`<row>/seed<k>.json\`; the whole block with ` +
      `\`npx crossflow ablate ${study.name} --profile ${res.profile} --seeds ${Math.max(seedsRun, scale.seeds)} --jobs 2\`.`,
    '',
  );
  L.push('## Ours beside the paper', '');
  L.push(`| row | \`--set\` | w | seeds | paper FID | paper CLIP | ${HEADLINE.map((m) => METRICS.find((x) => x.name === m)!.label + unitOf(m)).join(' | ')} |`);
  L.push(`|---|---|---|---|---|---|${HEADLINE.map(() => '---').join('|')}|`);
  for (const r of res.rows) {
    const p = r.row.paper;
    L.push(
      `| ${r.row.label} | \`${r.row.sets.join(' ')}\` | ${r.row.cfg ?? study.cfg} | ${r.bySeed.size} | ${p ? p.fid.toFixed(2) + (p.as ? ` (${p.as})` : '') : '–'} | ${p ? p.clip.toFixed(2) : '–'} | ` +
        `${HEADLINE.map((m) => formatSummary(r.stats[m], m)).join(' | ')} |`,
    );
  }
  L.push('', 'Our CLIP score is the project\'s small CLIP trained on Shapes (cosine similarity, not the paper\'s scaled score); FID is FID-1K on judge features, so neither is comparable in value with the paper\'s COCO numbers: compare orderings and differences.', '');
  L.push('## Verdicts', '');
  L.push('Paired differences (second row minus first) over the seeds both rows have, with 95% bootstrap intervals; "better"/"worse" only when the interval excludes zero (for FID lower is better).', '');
  L.push(`| comparison | ${HEADLINE.map((m) => METRICS.find((x) => x.name === m)!.label).join(' | ')} |`);
  L.push(`|---|${HEADLINE.map(() => '---').join('|')}|`);
  for (const c of res.comparisons) {
    L.push(`| ${labelOf(res, c.b)} vs ${labelOf(res, c.a)} | ${HEADLINE.map((m) => { const d = c.diff[m]; return d.n ? `${formatSummary(d, m)}: **${d.verdict}**` : '–'; }).join(' | ')} |`);
  }
  const ord = orderingVerdict(res);
  L.push('', `**Ordering:** ${ord.reproduced === null ? ord.text : ord.reproduced ? `reproduced: ${ord.text}.` : `not reproduced: ${ord.text}.`}`, '');
  if (figures.metrics) L.push('## Figures', '', `![metrics](${figures.metrics})`, '');
  if (figures.grid) L.push(`![samples](${figures.grid})`, '', `Samples: seed 0 of every row, the same ${gridPrompts().length} test captions and sampling seed.`, '');
  L.push('## Every metric', '');
  L.push(`| metric | ${res.rows.map((r) => r.row.label).join(' | ')} |`);
  L.push(`|---|${res.rows.map(() => '---').join('|')}|`);
  for (const m of METRICS) L.push(`| ${m.label}${unitOf(m.name)} | ${res.rows.map((r) => formatSummary(r.stats[m.name], m.name, false)).join(' | ')} |`);
  const secs = res.rows.flatMap((r) => [...r.bySeed.values()].map((x) => x.timing.train_seconds + x.timing.eval_seconds));
  if (secs.length) L.push('', `Wall time per run (train + evaluate): median ${median(secs).toFixed(0)} s over ${secs.length} runs.`);
  if (res.stale.length) L.push('', `Left out (made with another config or evaluation; rerun the sweep to replace): ${res.stale.map((f) => `\`${f}\``).join(', ')}.`);
  return L.join('\n') + '\n';
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const texEscape = (s: string) => s.replace(/([&%$#_{}])/g, '\\$1').replace(/±/g, '$\\pm$');

export function latexTable(res: StudyResults): string {
  const cols = HEADLINE;
  const L: string[] = [];
  L.push(`% Generated by npx crossflow ablate ${res.study.name} --profile ${res.profile} --report; do not edit.`);
  L.push('\\begin{tabular}{l' + 'r'.repeat(2 + cols.length) + '}', '\\toprule');
  L.push(['Row', 'Paper FID', 'Paper CLIP', ...cols.map((m) => METRICS.find((x) => x.name === m)!.label + unitOf(m))].map(texEscape).join(' & ') + ' \\\\', '\\midrule');
  for (const r of res.rows) {
    const p = r.row.paper;
    L.push([r.row.label, p ? p.fid.toFixed(2) : '--', p ? p.clip.toFixed(2) : '--', ...cols.map((m) => formatSummary(r.stats[m], m, false))].map(texEscape).join(' & ') + ' \\\\');
  }
  L.push('\\bottomrule', '\\end{tabular}');
  return L.join('\n') + '\n';
}

/** Bars (mean) with error bars (sd) per headline metric, one panel each. */
export function metricsFigure(res: StudyResults): PlotlyFigure {
  const labels = res.rows.map((r) => r.row.label);
  const data = HEADLINE.map((m, i) => {
    const k = m === 'fid' || m === 'clip_score' ? 1 : 100;
    return {
      type: 'bar', x: labels, y: res.rows.map((r) => r.stats[m].mean * k), name: METRICS.find((x) => x.name === m)!.label,
      error_y: { type: 'data', array: res.rows.map((r) => (Number.isFinite(r.stats[m].sd) ? r.stats[m].sd * k : 0)), visible: true },
      xaxis: `x${i + 1}`, yaxis: `y${i + 1}`, showlegend: false,
    };
  });
  const n = HEADLINE.length;
  const layout: Record<string, unknown> = {
    width: 260 * n, height: 360, margin: { l: 50, r: 20, t: 60, b: 90 },
    title: { text: `Table ${res.study.block}: ${res.study.title} (mean ± sd over seeds)`, font: { size: 14 } },
    grid: { rows: 1, columns: n, pattern: 'independent' },
    annotations: HEADLINE.map((m, i) => ({ text: METRICS.find((x) => x.name === m)!.label + unitOf(m), xref: `x${i + 1} domain`, yref: `y${i + 1} domain`, x: 0.5, y: 1.08, showarrow: false })),
  };
  return { data, layout };
}

/** Seed 0 of every row on the same captions: one image row per study row, labelled. */
export async function sampleGrid(res: StudyResults): Promise<Buffer | null> {
  const images: RgbImage[] = [];
  const labels: string[] = [];
  for (const r of res.rows) {
    const first = [...r.bySeed.keys()].sort((a, b) => a - b)[0];
    if (first === undefined) continue;
    const strip = samplesFileOf(r.files.get(first)!);
    if (!fs.existsSync(strip)) continue;
    const im = await readPngRgb(strip);
    const N = gridPrompts().length;
    const W = im.width / N;
    for (let k = 0; k < N; k++) {
      const rgb = new Uint8ClampedArray(W * im.height * 3);
      for (let y = 0; y < im.height; y++) rgb.set(im.rgb.subarray((y * im.width + k * W) * 3, (y * im.width + (k + 1) * W) * 3), y * W * 3);
      images.push({ data: rgb, width: W, height: im.height });
    }
    labels.push(r.row.label);
  }
  if (!images.length) return null;
  const prompts = gridPrompts();
  return renderImageGrid(images, { cols: prompts.length, rowLabels: labels, captions: [...prompts, ...new Array(images.length - prompts.length).fill('')], captionLines: 3 });
}


/** Where a study's figures go: results/figures/ for the committed results, else beside the results (smoke, --results-dir). */
export function figuresDir(dirs: SweepDirs): string {
  return dirs.results.startsWith(repoPath('results')) ? repoPath('results', 'figures') : path.join(dirs.results, 'figures');
}

export interface WrittenReport {
  report: string;
  tex: string;
  figures: string[];
  results: StudyResults;
}

/** Writes REPORT.md, table.tex and the figures of one study; figures go to results/figures/ (smoke: beside the results). */
export async function writeStudyReport(study: Study, profile: Profile, dirs: SweepDirs, opts: { figures?: boolean } = {}): Promise<WrittenReport> {
  const res = collectResults(study, profile, dirs);
  const dir = path.join(dirs.results, study.name);
  fs.mkdirSync(dir, { recursive: true });
  const figDir = figuresDir(dirs);
  const written: string[] = [];
  let metricsRel: string | null = null;
  let gridRel: string | null = null;
  const withResults = res.rows.some((r) => r.bySeed.size > 0);
  if ((opts.figures ?? true) && withResults) {
    const prefix = `ablation-${study.name}${profile === 'small' ? '' : `-${profile}`}`;
    const m = await exportFigure(`${prefix}-metrics`, metricsFigure(res), { dir: figDir });
    written.push(m.svg, m.png, m.pdf);
    metricsRel = path.relative(dir, m.png);
    const grid = await sampleGrid(res);
    if (grid) {
      const g = await exportFigure(`${prefix}-samples`, grid, { dir: figDir });
      written.push(g.svg, g.png, g.pdf);
      gridRel = path.relative(dir, g.png);
    }
  }
  const report = path.join(dir, 'REPORT.md');
  writeFileAtomic(report, markdownReport(res, { metrics: metricsRel, grid: gridRel }));
  const tex = path.join(dir, 'table.tex');
  writeFileAtomic(tex, latexTable(res));
  return { report, tex, figures: written, results: res };
}

/** results/ablations/README.md: every study's rows, ours beside the paper's, in one table. */
/** results/ablations/README.md: Table 3 (its five blocks), the studies beyond it, and links to the other studies' reports. */
export function writeOverview(profile: Profile, dirs: SweepDirs): string {
  const studies = TABLE3_STUDIES.map(studyByName);
  const beyond = BEYOND_TABLE3.map(studyByName);
  const others = Object.values(STUDIES).filter((s) => !studies.includes(s) && !beyond.includes(s));
  const L: string[] = [];
  L.push('# Table 3 at our scale: every block, ours beside the paper', '');
  L.push(`Generated by \`npx crossflow ablate --overview --profile ${profile}\` from the result files below; do not edit. Each block's REPORT.md has the verdicts, intervals and figures.`, '');
  L.push(`Scale: preset \`${SCALES[profile].preset}\` with \`${SCALES[profile].sets.join(' ')}\`. Values: mean ± sd over seeds, and for FID and CLIP score the 95% bootstrap interval of the mean in brackets; FID is FID-1K in the Shapes judge's feature space, single-object accuracy is on seen / held-out colour-shape pairs.`, '');
  // Each distinct run once (rows two blocks share are one run): its training and evaluation seconds.
  const jobSeconds = new Map<string, { train: number; evaluate: number; oneThread: boolean }>();
  const table = (blocks: Study[]) => {
    L.push('| block | row | w | seeds | paper FID | paper CLIP | FID | CLIP score | GenEval overall (%) | single seen (%) | single held-out (%) | ordering |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const study of blocks) {
      const res = collectResults(study, profile, dirs);
      const ord = orderingVerdict(res);
      res.rows.forEach((r, i) => {
        const p = r.row.paper;
        for (const run of r.bySeed.values()) jobSeconds.set(`${run.config_hash}:${run.eval_hash}`, { train: run.timing.train_seconds, evaluate: run.timing.eval_seconds, oneThread: run.timing.blas_threads === 1 });
        L.push(
          `| ${i === 0 ? `[${study.block}](${study.name}/REPORT.md)` : ''} | ${r.row.label} | ${r.row.cfg ?? study.cfg} | ${r.bySeed.size} | ${p ? p.fid.toFixed(2) : '–'} | ${p ? p.clip.toFixed(2) : '–'} | ` +
            `${(['fid', 'clip_score', 'geneval_overall', 'single_seen', 'single_heldout'] as MetricName[]).map((m) => formatSummary(r.stats[m], m, m === 'fid' || m === 'clip_score')).join(' | ')} | ` +
            `${i === 0 ? (ord.reproduced === null ? '–' : ord.reproduced ? 'reproduced' : 'not reproduced') : ''} |`,
        );
      });
    }
  };
  table(studies);
  for (const study of beyond) {
    L.push('', `## Beyond the table: ${study.title}`, '', `${study.name}: its own base (\`--set ${effectiveSets(study.base).join(' ')}\`); the paper's numbers are its block's. Its REPORT.md has the verdicts.`, '');
    table([study]);
  }
  if (jobSeconds.size > 0) {
    const runs = [...jobSeconds.values()];
    const hours = (f: (x: { train: number; evaluate: number }) => number) => {
      const seconds = runs.reduce((a, x) => a + f(x), 0);
      return seconds >= 360 ? `${(seconds / 3600).toFixed(1)} h` : `${Math.round(seconds)} s`;
    };
    L.push('', `Compute${beyond.length ? ' (both tables)' : ''}: ${runs.length} distinct runs (rows two blocks share are one run), ${hours((x) => x.train)} of training and ${hours((x) => x.evaluate)} of evaluation in job time, summed from the result files' timings; ${runs.filter((x) => x.oneThread).length} of them ran with one BLAS thread, as \`--jobs 2\` runs them, two at a time.`);
  }
  const reported = others.filter((s) => fs.existsSync(path.join(dirs.results, s.name, 'REPORT.md')));
  if (reported.length) {
    L.push('', '## Other studies in this folder', '');
    for (const s of reported) L.push(`- [${s.title}](${s.name}/REPORT.md) (\`npx crossflow ablate ${s.name}\`)`);
  }
  const file = path.join(dirs.results, 'README.md');
  writeFileAtomic(file, L.join('\n') + '\n');
  return file;
}
