// The scaling study's reports, written from its result files (never by hand): REPORT.md (setup and what
// each parameter count includes, the Table 1 analogue beside the paper's numbers, the gap by size and
// step, verdicts on size and steps, quality against solver evaluations, images per second, conclusions),
// table.tex, and figures (metrics against parameters on a log axis and against training steps, both
// families with 95% bootstrap bands; quality against evaluations; speed; samples), SVG, PNG and PDF.
import * as path from 'path';
import { exportFigure } from '../../display/export';
import type { PlotlyFigure } from '../../display/plotly';
import type { Profile } from '../../notebooks/profile';
import { nfeOf } from '../../flow/solver';
import { METRICS, MetricName } from '../../runs/evaluate';
import { SweepDirs } from '../plan';
import { figuresDir, formatSummary, HEADLINE, sampleGrid } from '../report';
import { writeFileAtomic } from '../runOne';
import { scaleOf } from '../study';
import type { PairedDifference, Summary } from '../stats';
import type { Study } from '../study';
import { TABLE1 } from '../studies/scaling';
import { bestCfg, cfgCurve, collectScaling, fillPlannedParams, hasResults, hasSampling, MIN_SEEDS, nfeCurve, NfePoint, ScalingResults, ScalingRow, SizeResults, stepGainVerdict, Trend } from './results';
import { BUSY_LOAD, readSpeed, ScalingSpeed, summarizeSpeed } from './speed';

/** The metrics the scaling figures and verdict tables show. */
export const SCALING_METRICS: MetricName[] = ['fid', 'single_seen', 'single_heldout', 'clip_score'];

const COLORS = { crossflow: '#d62728', baseline: '#1f77b4' } as const;
const FILL = { crossflow: 'rgba(214,39,40,0.15)', baseline: 'rgba(31,119,180,0.15)' } as const;
const FAMILY_LABEL = { crossflow: 'CrossFlow', baseline: 'flow matching + cross-attention' } as const;

const labelOf = (m: MetricName) => METRICS.find((x) => x.name === m)!.label;
/** Percent for accuracies, as is for FID and the CLIP score. */
const factor = (m: MetricName) => (m === 'fid' || m === 'clip_score' || m === 'r_precision' ? 1 : 100);
const unitOf = (m: MetricName) => (factor(m) === 100 ? ' (%)' : '');
const fmtCount = (n: number) => n.toLocaleString('en-US');

/** "-1.23 [-2.0, -0.4]" in the metric's display unit. */
function fmtTrend(t: Trend, m: MetricName, digits = m === 'fid' ? 2 : 1): string {
  if (!Number.isFinite(t.estimate)) return '–';
  const k = factor(m);
  const f = (x: number) => (x * k).toFixed(m === 'clip_score' ? 3 : digits);
  return `${f(t.estimate)} [${f(t.ci[0])}, ${f(t.ci[1])}]`;
}

function fmtDiff(d: PairedDifference, m: MetricName): string {
  return d.n ? `${formatSummary(d, m)}` : '–';
}

// ---- Figures ---------------------------------------------------------------------------------------------

/** A mean line with a shaded 95% bootstrap band (the band only where there are 2 or more seeds). */
function lineWithBand(x: number[], s: Summary[], m: MetricName, family: 'crossflow' | 'baseline', axes: { xaxis: string; yaxis: string }, name: string, showlegend: boolean, dash = 'solid'): Array<Record<string, unknown>> {
  const k = factor(m);
  const keep = s.map((v, i) => i).filter((i) => s[i].n > 0);
  const xs = keep.map((i) => x[i]);
  const traces: Array<Record<string, unknown>> = [];
  const banded = keep.filter((i) => s[i].n > 1);
  if (banded.length >= 2) {
    const bx = banded.map((i) => x[i]);
    traces.push({
      type: 'scatter', mode: 'lines', x: [...bx, ...[...bx].reverse()],
      y: [...banded.map((i) => s[i].ci[1] * k), ...[...banded].reverse().map((i) => s[i].ci[0] * k)],
      fill: 'toself', fillcolor: FILL[family], line: { width: 0 }, hoverinfo: 'skip', showlegend: false, ...axes,
    });
  }
  traces.push({
    type: 'scatter', mode: 'lines+markers', x: xs, y: keep.map((i) => s[i].mean * k), name, legendgroup: name, showlegend,
    line: { color: COLORS[family], dash }, marker: { color: COLORS[family], size: 7 }, ...axes,
  });
  return traces;
}

function axisKeys(i: number): { xaxis: string; yaxis: string; xkey: string; ykey: string } {
  const n = i === 0 ? '' : String(i + 1);
  return { xaxis: `x${n}`, yaxis: `y${n}`, xkey: `xaxis${n}`, ykey: `yaxis${n}` };
}

/** Each headline metric at the run's end against model parameters (log axis), both families. */
export function paramsFigure(res: ScalingResults, metrics = SCALING_METRICS): PlotlyFigure {
  const data: Array<Record<string, unknown>> = [];
  const layout: Record<string, unknown> = {
    width: 340 * metrics.length, height: 420, margin: { l: 70, r: 20, t: 70, b: 110 },
    title: { text: 'At the end of training, against parameters (mean, 95% bootstrap band over seeds)', font: { size: 14 } },
    grid: { rows: 1, columns: metrics.length, pattern: 'independent', xgap: 0.3 }, legend: { orientation: 'h', y: -0.35 },
  };
  metrics.forEach((m, i) => {
    const ax = axisKeys(i);
    for (const family of ['crossflow', 'baseline'] as const) {
      const rows = res.sizes.map((s) => s[family]);
      const x = rows.map((r) => r.params?.model ?? NaN);
      data.push(...lineWithBand(x, rows.map((r) => r.results.stats[m]), m, family, ax, FAMILY_LABEL[family], i === 0));
    }
    // Ticks at the sizes (CrossFlow's counts; each baseline is within 10%), not plotly's crowded log ticks.
    const ticks = res.sizes.map((s) => s.crossflow.params?.model).filter((v): v is number => v !== undefined);
    layout[ax.xkey] = { type: 'log', title: { text: 'parameters (flow + Text VE)' }, tickvals: ticks, ticktext: ticks.map((v) => `${(v / 1e6).toFixed(2)}M`) };
    layout[ax.ykey] = { title: { text: labelOf(m) + unitOf(m) } };
  });
  return { data, layout };
}

type Axis = ReturnType<typeof axisKeys>;

/**
 * A metrics x sizes grid of panels (one title, the legend below): `traces` draws one size's families on a
 * panel, `xaxis` is every panel's x axis (its title only on the bottom row).
 */
function sizePanels(
  res: ScalingResults, title: string, metrics: MetricName[], xTitle: string, xaxis: Record<string, unknown>,
  traces: (s: SizeResults, m: MetricName, ax: Axis, legend: boolean) => Array<Record<string, unknown>>,
): PlotlyFigure {
  const data: Array<Record<string, unknown>> = [];
  const cols = res.sizes.length;
  const layout: Record<string, unknown> = {
    width: 340 * cols, height: 300 * metrics.length + 100, margin: { l: 70, r: 20, t: 70, b: 110 },
    title: { text: title, font: { size: 14 } },
    grid: { rows: metrics.length, columns: cols, pattern: 'independent', xgap: 0.2, ygap: 0.3 }, legend: { orientation: 'h', y: -0.18 },
  };
  metrics.forEach((m, r) => {
    res.sizes.forEach((s, c) => {
      const i = r * cols + c;
      const ax = axisKeys(i);
      data.push(...traces(s, m, ax, i === 0));
      layout[ax.xkey] = { ...xaxis, title: { text: r === metrics.length - 1 ? `${xTitle} (${s.size})` : '' } };
      layout[ax.ykey] = { title: { text: c === 0 ? labelOf(m) + unitOf(m) : '' } };
    });
  });
  return { data, layout };
}

/** A log axis ticked at `ticks` over [lo, hi] (every size the same range, also one with no results yet). */
const logAxis = (ticks: number[], lo: number, hi: number) => ({ type: 'log', tickvals: ticks, ...(ticks.length ? { range: [Math.log10(lo) - 0.1, Math.log10(hi) + 0.1] } : {}) });

/** FID and single-object accuracy against training step (log axis, ticked at the kept checkpoints), one column per size. */
export function stepsFigure(res: ScalingResults, metrics: MetricName[] = ['fid', 'single_seen']): PlotlyFigure {
  const kept = scaleOf(res.study, res.profile).evalSteps ?? [];
  return sizePanels(res, 'Along training: kept checkpoints, both families (mean, 95% bootstrap band over seeds)', metrics, 'training step', logAxis(kept, kept[0], kept[kept.length - 1]),
    (s, m, ax, legend) => (['crossflow', 'baseline'] as const).flatMap((family) =>
      lineWithBand(s[family].steps.map((x) => x.step), s[family].steps.map((x) => x.stats[m]), m, family, ax, FAMILY_LABEL[family], legend)));
}

/** Quality against evaluations of the velocity (log axis, ticked at Euler's counts): Euler solid, the second-order solver dashed. */
export function nfeFigure(res: ScalingResults, metrics: MetricName[] = ['fid', 'single_seen']): PlotlyFigure {
  const points = scaleOf(res.study, res.profile).sampling?.points ?? [];
  const nfes = points.map((p) => nfeOf(p.solver, p.steps));
  return sizePanels(res, 'Quality against velocity evaluations per image (guided; mean, 95% bootstrap band where several seeds)', metrics, 'evaluations',
    logAxis(points.filter((p) => p.solver === 'euler').map((p) => p.steps), Math.min(...nfes), Math.max(...nfes)),
    (s, m, ax, legend) => (['crossflow', 'baseline'] as const).flatMap((family) => {
      const curve = nfeCurve(s[family], `${res.study.name}:nfe:${s[family].results.row.name}`);
      return [...new Set(curve.map((p) => p.solver))].flatMap((solver) => {
        const pts = curve.filter((p) => p.solver === solver).sort((a, b) => a.nfe - b.nfe);
        return lineWithBand(pts.map((p) => p.nfe), pts.map((p) => p.stats[m]), m, family, ax, `${FAMILY_LABEL[family]}, ${solver}`, legend, solver === 'euler' ? 'solid' : 'dash');
      });
    }));
}

/** Quality against the guidance weight at Euler's most steps, both families, one column per size. */
export function cfgFigure(res: ScalingResults, metrics: MetricName[] = ['fid', 'single_seen']): PlotlyFigure {
  const ws = [...new Set([res.study.cfg, ...(scaleOf(res.study, res.profile).sampling?.points ?? []).map((p) => p.cfg ?? res.study.cfg)])].sort((a, b) => a - b);
  return sizePanels(res, 'Quality against the guidance weight w (Euler, last checkpoint; mean, 95% bootstrap band where several seeds)', metrics, 'guidance weight w',
    { tickvals: ws, range: [ws[0] - 0.2, ws[ws.length - 1] + 0.2] },
    (s, m, ax, legend) => (['crossflow', 'baseline'] as const).flatMap((family) => {
      const pts = cfgCurve(s[family], `${res.study.name}:cfg:${s[family].results.row.name}`);
      return lineWithBand(pts.map((p) => p.cfg), pts.map((p) => p.stats[m]), m, family, ax, FAMILY_LABEL[family], legend);
    }));
}

/** The committed speed measurement (`--speed`) matching today's settings, or null. */
export function speedOf(res: ScalingResults): ScalingSpeed | null {
  return readSpeed(res.study, res.profile, res.dirs).speed;
}

/** Images per second of each family at each size, guided and unguided (error bars: sd over rounds). */
export function speedFigure(speed: ScalingSpeed): PlotlyFigure {
  const sums = summarizeSpeed(speed);
  const data: Array<Record<string, unknown>> = [];
  (['guided', 'unguided'] as const).forEach((kind, i) => {
    const ax = axisKeys(i);
    for (const family of ['crossflow', 'baseline'] as const) {
      const sp = sums.map((s) => s[family][kind]);
      data.push({
        type: 'bar', x: sums.map((s) => s.size), y: sp.map((v) => v.mean), name: FAMILY_LABEL[family], legendgroup: family, showlegend: i === 0, marker: { color: COLORS[family] },
        error_y: { type: 'data', array: sp.map((v) => (Number.isFinite(v.sd) ? v.sd : 0)), visible: true }, xaxis: ax.xaxis, yaxis: ax.yaxis,
      });
    }
  });
  return {
    data,
    layout: {
      width: 760, height: 380, margin: { l: 60, r: 20, t: 70, b: 70 }, barmode: 'group',
      title: { text: `Sampling speed: images per second (Euler ${speed.settings.steps} steps; mean ± sd over ${speed.settings.rounds} rounds)`, font: { size: 14 } },
      grid: { rows: 1, columns: 2, pattern: 'independent' }, legend: { orientation: 'h', y: -0.2 },
      yaxis: { title: { text: 'images / s, guided' } }, yaxis2: { title: { text: 'images / s, unguided' } },
    },
  };
}

// ---- Text ------------------------------------------------------------------------------------------------

function lastStep(res: ScalingResults): number | null {
  const steps = scaleOf(res.study, res.profile).evalSteps;
  return steps ? steps[steps.length - 1] : null;
}

/** Parameters of every row: what is counted, and each baseline against its CrossFlow size. */
export function paramsTable(res: ScalingResults): Array<Record<string, string | number>> {
  return res.sizes.flatMap((s) =>
    (['crossflow', 'baseline'] as const).map((family) => {
      const p = s[family].params;
      const other = s[family === 'crossflow' ? 'baseline' : 'crossflow'].params;
      return {
        row: s[family].results.row.label, preset: s[family].results.row.preset ?? '–', 'flow transformer': p ? fmtCount(p.flow) : '–', 'Text VE': p ? fmtCount(p.ve) : '–',
        'counted (flow + VE)': p ? fmtCount(p.model) : '–', 'training-only (not counted)': p ? fmtCount(p.aux) : '–',
        'vs CrossFlow': family === 'baseline' && p && other ? `${(((p.model - other.model) / other.model) * 100).toFixed(1)}%` : '',
      };
    }),
  );
}

/** The Table 1 analogue at the largest size: the paper's two rows, ours, and the difference with its interval. */
export function table1Rows(res: ScalingResults): Array<Record<string, string>> {
  const s = res.sizes[res.sizes.length - 1];
  if (!s) return [];
  const ours = (r: ScalingRow) => ({
    params: r.params ? fmtCount(r.params.model) : '–', seeds: String(r.results.bySeed.size),
    ...Object.fromEntries(['fid', 'clip_score', 'single_seen', 'single_heldout'].map((m) => [labelOf(m as MetricName) + unitOf(m as MetricName), formatSummary(r.results.stats[m as MetricName], m as MetricName)])),
  });
  const gap = s.gapByStep.length ? s.gapByStep[s.gapByStep.length - 1].diff : null;
  const diffCell = (m: MetricName) => (gap && gap[m].n ? `${formatSummary(gap[m], m)}: ${gap[m].verdict}` : '–');
  return [
    { model: `${TABLE1.baseline.label} (paper)`, params: '1.04B', seeds: '–', FID: TABLE1.baseline.fid.toFixed(2), 'CLIP score': TABLE1.baseline.clip.toFixed(2), 'single object, seen pairs (%)': '–', 'single object, held-out pairs (%)': '–' },
    { model: `${TABLE1.crossflow.label} (paper)`, params: '0.95B', seeds: '–', FID: TABLE1.crossflow.fid.toFixed(2), 'CLIP score': TABLE1.crossflow.clip.toFixed(2), 'single object, seen pairs (%)': '–', 'single object, held-out pairs (%)': '–' },
    { model: 'CrossFlow − FM (paper)', params: '', seeds: '', FID: (TABLE1.crossflow.fid - TABLE1.baseline.fid).toFixed(2), 'CLIP score': (TABLE1.crossflow.clip - TABLE1.baseline.clip).toFixed(2), 'single object, seen pairs (%)': '', 'single object, held-out pairs (%)': '' },
    { model: `${s.baseline.results.row.label} (ours)`, ...ours(s.baseline) },
    { model: `${s.crossflow.results.row.label} (ours)`, ...ours(s.crossflow) },
    {
      model: 'CrossFlow − FM (ours, paired by seed)', params: '', seeds: String(gap?.fid.seeds.length ?? 0), FID: diffCell('fid'), 'CLIP score': diffCell('clip_score'),
      'single object, seen pairs (%)': diffCell('single_seen'), 'single object, held-out pairs (%)': diffCell('single_heldout'),
    },
  ];
}

/** The gap (CrossFlow minus baseline) at each size and kept step, for the given metrics. */
export function gapRows(res: ScalingResults, metrics: MetricName[] = ['fid', 'single_seen', 'single_heldout']): Array<Record<string, string | number>> {
  return res.sizes.flatMap((s) =>
    s.gapByStep.map((g) => ({
      size: s.size, step: g.step, seeds: g.diff.fid.seeds.length,
      ...Object.fromEntries(metrics.map((m) => [labelOf(m) + unitOf(m), g.diff[m].n ? `${fmtDiff(g.diff[m], m)}: ${g.diff[m].verdict}` : '–'])),
    })),
  );
}

/** The verdicts on size and steps, one row per question and metric. */
export function trendRows(res: ScalingResults, metrics = SCALING_METRICS): Array<Record<string, string>> {
  const first = res.sizes[0]?.size;
  const rows: Array<Record<string, string>> = [];
  for (const m of metrics) {
    for (const c of res.sizeChanges)
      rows.push({ question: `gap at ${c.size} minus gap at ${first}`, metric: labelOf(m) + unitOf(m), seeds: c.trend[m].n.join(' / '), 'estimate [95%]': fmtTrend(c.trend[m], m), verdict: c.trend[m].verdict });
    const sl = res.sizeSlope[m];
    rows.push({ question: 'slope of the gap per decade of parameters, every size', metric: labelOf(m) + unitOf(m), seeds: sl.n.join(' / '), 'estimate [95%]': fmtTrend(sl, m), verdict: sl.verdict });
    if (res.sizeSlopeEnough) {
      const se = res.sizeSlopeEnough.trend[m];
      rows.push({ question: `the same slope over ${res.sizeSlopeEnough.sizes.join(', ')} (>= ${MIN_SEEDS} seeds)`, metric: labelOf(m) + unitOf(m), seeds: se.n.join(' / '), 'estimate [95%]': fmtTrend(se, m), verdict: se.verdict });
    }
    for (const s of res.sizes) {
      const d = s.stepGain[m];
      rows.push({
        question: `gap at the last checkpoint minus at the first, ${s.size}`, metric: labelOf(m) + unitOf(m), seeds: String(d.seeds.length),
        'estimate [95%]': d.n ? formatSummary(d, m) : '–', verdict: stepGainVerdict(d),
      });
    }
    const g = res.stepGain[m];
    rows.push({ question: `the same, averaged over ${res.pooledSizes.join(', ') || 'no size'} (>= ${MIN_SEEDS} seeds)`, metric: labelOf(m) + unitOf(m), seeds: g.n.join(' / '), 'estimate [95%]': fmtTrend(g, m), verdict: g.verdict });
  }
  return rows;
}

/** Quality at each solver and evaluation count, both families, every size. */
export function nfeRows(res: ScalingResults, metrics: MetricName[] = ['fid', 'single_seen', 'single_heldout']): Array<Record<string, string | number>> {
  return res.sizes.flatMap((s) =>
    (['crossflow', 'baseline'] as const).flatMap((family) =>
      nfeCurve(s[family], `${res.study.name}:nfe:${s[family].results.row.name}`).map((p) => ({
        row: s[family].results.row.label, solver: p.solver, steps: p.steps, evaluations: p.nfe, seeds: p.stats.fid.n,
        ...Object.fromEntries(metrics.map((m) => [labelOf(m) + unitOf(m), formatSummary(p.stats[m], m)])),
      })),
    ),
  );
}

/** Each row's quality at every guidance weight measured (Euler, most steps). */
export function cfgRows(res: ScalingResults, metrics: MetricName[] = ['fid', 'clip_score', 'single_seen', 'single_heldout']): Array<Record<string, string | number>> {
  return res.sizes.flatMap((s) =>
    (['crossflow', 'baseline'] as const).flatMap((family) =>
      cfgCurve(s[family], `${res.study.name}:cfg:${s[family].results.row.name}`).map((p) => ({
        row: s[family].results.row.label, w: p.cfg, seeds: p.stats.fid.n,
        ...Object.fromEntries(metrics.map((m) => [labelOf(m) + unitOf(m), formatSummary(p.stats[m], m)])),
      })),
    ),
  );
}

/** A speed ratio's verdict: CrossFlow faster or slower only when the 95% interval excludes 1. */
export function speedVerdict(r: Summary): string {
  if (r.n < 3) return 'too few rounds';
  return r.ci[0] > 1 ? 'CrossFlow faster' : r.ci[1] < 1 ? 'CrossFlow slower' : 'no difference';
}

/** Images per second per family and size, and CrossFlow's speed relative to the baseline's (paired by round). */
export function speedRows(speed: ScalingSpeed): Array<Record<string, string>> {
  const f = (v: Summary) => (v.n ? `${v.mean.toFixed(1)}${Number.isFinite(v.sd) ? ` ± ${v.sd.toFixed(1)}` : ''}` : '–');
  const ratio = (v: Summary) => (v.n ? `${v.mean.toFixed(2)}x [${v.ci[0].toFixed(2)}, ${v.ci[1].toFixed(2)}]: ${speedVerdict(v)}` : '–');
  return summarizeSpeed(speed).map((s) => ({
    size: s.size, 'CrossFlow, guided': f(s.crossflow.guided), 'FM, guided': f(s.baseline.guided), 'CrossFlow / FM, guided': ratio(s.ratio.guided),
    'CrossFlow, unguided': f(s.crossflow.unguided), 'FM, unguided': f(s.baseline.unguided), 'CrossFlow / FM, unguided': ratio(s.ratio.unguided),
  }));
}

/** How the speed was measured: settings, machine and load (for the report and the notebook). */
export function speedSetup(speed: ScalingSpeed): string {
  const st = speed.settings;
  const busy = speed.load_per_cpu.before > BUSY_LOAD;
  return (
    `Images per second of untrained models of each row's config (cost does not depend on the weights): ${st.images} test captions in batches of ${st.batch}, Euler ${st.steps} steps, ` +
    `guided (each row's own guidance at its w) and unguided, text encoding and decoding included, after a warm-up batch; ${st.rounds} rounds interleaving the rows ` +
    `(within a size the family measured first alternates), one process, ${speed.backend} backend with ${speed.blas_threads ?? '?'} BLAS thread(s), ${speed.cpus} × ${speed.cpu}, ` +
    `1-minute load per CPU ${speed.load_per_cpu.before.toFixed(2)} before, ${speed.load_per_cpu.after.toFixed(2)} after (this counts the measurement's own threads)${busy ? ' (other work was running: absolute speeds are low, ratios less affected)' : ''}. ` +
    `Ratio: CrossFlow's images per second over the baseline's, per round; mean [95% bootstrap interval]. Command: \`${speed.command}\`.`
  );
}

/** Sentences that follow from the numbers: the closing note of REPORT.md and of the notebook. */
export function scalingConclusions(res: ScalingResults): string[] {
  const cmd = `npx crossflow ablate ${res.study.name} --profile ${res.profile}`;
  if (!hasResults(res)) return [`No results for ${res.study.name} at profile ${res.profile} yet: run \`${cmd} --jobs 2\` (then the report is regenerated), or set rerun = true above.`];
  const out: string[] = [];
  const fid = (d: PairedDifference) => `${formatSummary(d, 'fid')} FID over ${d.seeds.length} seed(s)`;
  const first = res.sizes[0];
  const last = res.sizes[res.sizes.length - 1];
  const endGap = (s: SizeResults) => (s.gapByStep.length ? s.gapByStep[s.gapByStep.length - 1].diff : null);
  const word = (d: PairedDifference) => (d.verdict === 'too few seeds' ? 'too few seeds for a verdict' : d.verdict === 'no difference' ? 'no difference' : `CrossFlow ${d.verdict}`);
  for (const s of [first, last]) {
    const g = endGap(s);
    if (!g) continue;
    out.push(
      `At ${s.size} (${s.crossflow.params ? fmtCount(s.crossflow.params.model) : '?'} vs ${s.baseline.params ? fmtCount(s.baseline.params.model) : '?'} parameters), CrossFlow − FM is ${fid(g.fid)} (${word(g.fid)}) ` +
        `and ${formatSummary(g.single_seen, 'single_seen')} points on seen single-object prompts (${word(g.single_seen)}).` +
        (s === first ? ' The paper (Fig. 3) has CrossFlow worse than the baseline at small sizes.' : ` The paper's Table 1 has CrossFlow better by 0.66 FID at about 1B parameters.`),
    );
  }
  const ratio = (s: SizeResults) => (s.crossflow.params && first.crossflow.params ? `${(s.crossflow.params.model / first.crossflow.params.model).toFixed(1)}x` : '?');
  const changes = res.sizeChanges.map((c) => `to ${c.size} (${ratio(res.sizes.find((s) => s.size === c.size)!)} the parameters) by ${fmtTrend(c.trend.fid, 'fid')} (${c.trend.fid.verdict})`);
  const sl = res.sizeSlope.fid;
  const se = res.sizeSlopeEnough;
  const decisive = [...res.sizeChanges.map((c) => c.trend.fid.verdict), sl.verdict, ...(se ? [se.trend.fid.verdict] : [])].filter((v) => v !== 'too few seeds');
  out.push(
    `From ${first.size}, the FID gap moves ${changes.join(', ')}; its slope is ${fmtTrend(sl, 'fid')} FID per decade of parameters over every size (${sl.verdict})` +
      `${se ? `, ${fmtTrend(se.trend.fid, 'fid')} over ${se.sizes.join(', ')} (${se.trend.fid.verdict})` : ''}. ` +
      `The paper: CrossFlow gains more from size. ${decisive.length === 0 ? `With fewer than ${MIN_SEEDS} seeds at a size we cannot say.` : decisive.includes('CrossFlow gains more') ? 'We agree where the interval excludes zero.' : decisive.includes('CrossFlow gains less') ? 'We find the opposite at this scale.' : 'We do not see it at this scale.'}`,
  );
  const g = res.stepGain.fid;
  out.push(
    `Over training (first to last kept checkpoint), the FID gap moves by ${fmtTrend(g, 'fid')} on average over ${res.pooledSizes.join(', ') || 'no size with enough seeds'} (${g.verdict}); per size: ` +
      res.sizes.map((s) => `${s.size} ${s.stepGain.fid.n ? formatSummary(s.stepGain.fid, 'fid') : '–'} (${stepGainVerdict(s.stepGain.fid)})`).join(', ') +
      `. The paper: CrossFlow needs more steps but converges lower, i.e. gains more from steps. ${g.verdict === 'CrossFlow gains more' ? 'We agree.' : g.verdict === 'too few seeds' ? 'Too few seeds to say.' : 'We do not see it at this scale.'}`,
  );
  if (hasSampling(res)) {
    const heun = res.sizes.flatMap((s) =>
      (['crossflow', 'baseline'] as const).map((family) => {
        const curve = nfeCurve(s[family], `${res.study.name}:nfe:${s[family].results.row.name}`);
        const at = (solver: string, nfe: number) => curve.find((p) => p.solver === solver && p.nfe === nfe);
        const e = at('euler', 10);
        const h = at('heun', 10);
        return e && h ? `${s[family].results.row.label}: FID ${formatSummary(h.stats.fid, 'fid', false)} (Heun) vs ${formatSummary(e.stats.fid, 'fid', false)} (Euler)` : null;
      }),
    ).filter((x): x is string => x !== null);
    if (heun.length) out.push(`At 10 evaluations: ${heun.join('; ')}.`);
    const bests = bestCfg(res).filter((b) => b.crossflow && b.baseline && b.diff);
    if (bests.length) {
      const f = (p: NfePoint) => `w = ${p.cfg} (FID ${formatSummary(p.stats.fid, 'fid', false)}, ${formatSummary(p.stats.single_seen, 'single_seen', false)}% seen)`;
      out.push(
        `Each family at its own best guidance weight (lowest mean FID, Euler at its most steps; the study compares both at w = ${res.study.cfg}): ` +
          bests.map((b) => `${b.size}: CrossFlow ${f(b.crossflow!)}, flow matching ${f(b.baseline!)}; CrossFlow − FM ${fid(b.diff!.fid)} (${word(b.diff!.fid)}), ` +
            `${formatSummary(b.diff!.single_seen, 'single_seen')} points seen (${word(b.diff!.single_seen)})`).join('. ') +
          '. The weight is picked on the samples it is scored on, for both families alike.',
      );
      // How far the study's one weight is from each family's best: the FID verdicts above are at that weight.
      const far = bests.flatMap((b) => (['crossflow', 'baseline'] as const).map((family) => {
        const row = res.sizes.find((s) => s.size === b.size)![family];
        const at = cfgCurve(row, `${res.study.name}:cfg:${row.results.row.name}`).find((p) => p.cfg === res.study.cfg);
        const best = b[family]!;
        return at && best.cfg !== res.study.cfg ? `${FAMILY_LABEL[family]} ${b.size} ${formatSummary(at.stats.fid, 'fid', false)} at w = ${res.study.cfg} against ${formatSummary(best.stats.fid, 'fid', false)} at w = ${best.cfg}` : null;
      })).filter((x): x is string => x !== null);
      if (far.length) out.push(`So the FID gaps and size and step verdicts above hold at w = ${res.study.cfg}, not at each family's best: FID (on the sampling stage's ${scaleOf(res.study, res.profile).sampling?.eval.fidCount} samples) ${far.join('; ')}.`);
    }
  } else out.push(`No sampling-stage results yet: \`${cmd} --sampling\`.`);
  const speed = speedOf(res);
  if (speed) {
    const sums = summarizeSpeed(speed);
    const fmt = (v: Summary) => `${v.mean.toFixed(2)}x [${v.ci[0].toFixed(2)}, ${v.ci[1].toFixed(2)}] (${speedVerdict(v)})`;
    out.push(
      `Sampling speed, CrossFlow's images per second over the baseline's (Euler ${speed.settings.steps} steps, ${speed.settings.rounds} rounds): guided ${sums.map((s) => `${s.size} ${fmt(s.ratio.guided)}`).join(', ')}; ` +
        `unguided ${sums.map((s) => `${s.size} ${fmt(s.ratio.unguided)}`).join(', ')}. CrossFlow has no cross-attention to run at each evaluation, and runs its Text VE once per image.`,
    );
  } else out.push(`No speed measurement yet: \`${cmd} --speed\` (alone on the machine).`);
  return out;
}

export function markdownScalingReport(res: ScalingResults, figures: Record<string, string | null>): string {
  const { study } = res;
  const scale = scaleOf(study, res.profile);
  const L: string[] = [];
  const table = (rows: Array<Record<string, string | number>>) => {
    if (!rows.length) return ['(none yet)'];
    const cols = Object.keys(rows[0]);
    return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? '')).join(' | ')} |`)];
  };
  L.push(`# Table ${study.block} and Fig. 3: ${study.title}`, '');
  L.push(`Generated by \`npx crossflow ablate ${study.name} --profile ${res.profile} --report\` from the result files in this folder; do not edit.`, '');
  L.push(`**The paper:** ${study.paperFinding}`, '');
  const seedsOfRow = study.rows.map((r) => `${r.name} ${r.seeds?.[res.profile] ?? scale.seeds}`).join(', ');
  L.push(
    `**Setup:** each row's preset with \`${[...study.base, ...scale.sets].join(' ')}\` (CrossFlow rows add \`${study.rows[0].sets.join(' ')}\`); ` +
      `evaluated at the kept checkpoints ${scale.evalSteps?.join(', ') ?? '(the last)'} with Table 3's evaluation at w = ${study.cfg} (CFG indicator / classic CFG), ${scale.eval.sampleSteps} Euler steps: ` +
      `FID on ${scale.eval.fidCount} samples against ${scale.eval.realCount} real test images in the Shapes judge's feature space, CLIP score, GenEval-style tasks, ` +
      `single-object accuracy on ${scale.eval.perPromptSeen} samples per seen pair and ${scale.eval.perPromptHeldout} per held-out pair. Seeds: ${seedsOfRow}. ` +
      `Values: mean ± sd over seeds [95% bootstrap interval]. The whole study: \`npx crossflow ablate ${study.name} --profile ${res.profile} --jobs 2\` (training and evaluation, then the sampling step); ` +
      `the sampling step alone: \`npx crossflow ablate ${study.name} --profile ${res.profile} --sampling\`; one run: the \`command\` in its \`<row>/seed<k>.json\` (\`seed<k>-sampling.json\`).`,
    '',
  );
  L.push('## Parameters', '', 'Counted: what sampling runs, the flow transformer (with its cross-attention for the baseline) and the Text VE. Not counted: the frozen CLIP text encoder and the autoencoder (shared by both), and CrossFlow\'s training-only I-T contrast image encoder and logit scale.', '');
  L.push(...table(paramsTable(res)), '');
  if (!hasResults(res)) {
    L.push('## Results', '', scalingConclusions(res)[0], '');
    return L.join('\n') + '\n';
  }
  const top = res.sizes[res.sizes.length - 1];
  L.push(`## Table 1 at our largest matched size (${top.size})`, '');
  L.push(...table(table1Rows(res)), '');
  L.push('Our FID is FID-1K in the Shapes judge\'s feature space and our CLIP score the project\'s small Shapes CLIP: compare the sign and size of the difference, not the values.', '');
  L.push(`## At the end of training (step ${lastStep(res) ?? '?'})`, '');
  L.push(`| row | seeds | ${HEADLINE.map((m) => labelOf(m) + unitOf(m)).join(' | ')} |`, `|---|---|${HEADLINE.map(() => '---').join('|')}|`);
  for (const r of res.base.rows) L.push(`| ${r.row.label} | ${r.bySeed.size} | ${HEADLINE.map((m) => formatSummary(r.stats[m], m)).join(' | ')} |`);
  L.push('', '## CrossFlow minus flow matching, by size and training step', '', 'Paired by seed; "better"/"worse" only when the 95% interval excludes zero (lower FID is better); fewer than 3 shared seeds: no verdict.', '');
  L.push(...table(gapRows(res)), '');
  L.push('## Does CrossFlow gain more from size, and from steps?', '');
  L.push(
    'The gap is CrossFlow minus the baseline. Size: the gap at the largest size minus at the smallest, and its least-squares slope against log10 of the parameters (sizes resampled independently). ' +
      'Steps: per seed, the gap at the last kept checkpoint minus at the first. "CrossFlow gains more" when the 95% interval lies on CrossFlow\'s side of zero (for FID: below).',
    '',
  );
  L.push(...table(trendRows(res)), '');
  L.push('## Sampling: quality against evaluations', '');
  if (hasSampling(res)) {
    const sp = scale.sampling!;
    L.push(
      `On each row's first ${sp.seeds} seed(s), last checkpoint: the evaluation with ${sp.eval.fidCount} FID samples, ${sp.eval.genevalSamples} per GenEval prompt, ${sp.eval.perPromptSeen} / ${sp.eval.perPromptHeldout} per seen / held-out pair, ` +
        'at each solver and step count. Euler takes one evaluation a step, Heun two; with guidance each evaluation is one guided velocity.',
      '',
    );
    L.push(...table(nfeRows(res)), '');
    const byCfg = cfgRows(res);
    if (byCfg.length) L.push('### Against the guidance weight', '', `Euler at its most steps, the same evaluation, at each weight w (the rest of the study uses w = ${study.cfg}).`, '', ...table(byCfg), '');
  } else L.push(`No sampling-stage results yet: \`npx crossflow ablate ${study.name} --profile ${res.profile} --sampling\`.`, '');
  L.push('## Sampling speed', '');
  const speed = speedOf(res);
  if (speed) L.push(speedSetup(speed), '', ...table(speedRows(speed)), '');
  else L.push(`No speed measurement yet: \`npx crossflow ablate ${study.name} --profile ${res.profile} --speed\` (alone on the machine: other work slows it).`, '');
  const figs = Object.entries(figures).filter(([, f]) => f);
  if (figs.length) {
    L.push('## Figures', '');
    for (const [name, f] of figs) L.push(`![${name}](${f})`, '');
  }
  L.push('## What the curves show', '', ...scalingConclusions(res).map((s) => `- ${s}`), '');
  L.push(`## Every metric at the end of training`, '');
  L.push(`| metric | ${res.base.rows.map((r) => r.row.label).join(' | ')} |`, `|---|${res.base.rows.map(() => '---').join('|')}|`);
  for (const m of METRICS) L.push(`| ${m.label}${unitOf(m.name)} | ${res.base.rows.map((r) => formatSummary(r.stats[m.name], m.name, false)).join(' | ')} |`);
  const secs = res.base.rows.flatMap((r) => [...r.bySeed.values()].map((x) => `${r.row.name} ${(x.timing.train_seconds / 60).toFixed(1)}+${(x.timing.eval_seconds / 60).toFixed(1)}`));
  if (secs.length) L.push('', `Minutes per run (train + evaluate at every kept checkpoint): ${secs.join(', ')}.`);
  const staleSpeed = readSpeed(res.study, res.profile, res.dirs).stale;
  const stale = [...res.base.stale, ...res.staleSampling, ...(staleSpeed ? [staleSpeed] : [])];
  if (stale.length) L.push('', `Left out (made with another config or settings; rerun to replace): ${stale.map((f) => `\`${f}\``).join(', ')}.`);
  return L.join('\n') + '\n';
}

const texEscape = (s: string) => s.replace(/([&%$#_{}])/g, '\\$1').replace(/±/g, '$\\pm$').replace(/−/g, '$-$');

/** Table 1 beside ours at every size, booktabs. */
export function scalingLatex(res: ScalingResults): string {
  const cols: MetricName[] = ['fid', 'clip_score', 'single_seen', 'single_heldout'];
  const L: string[] = [];
  L.push(`% Generated by npx crossflow ablate ${res.study.name} --profile ${res.profile} --report; do not edit.`);
  L.push('\\begin{tabular}{llr' + 'r'.repeat(cols.length) + '}', '\\toprule');
  L.push(['Model', 'Params', 'Seeds', ...cols.map((m) => labelOf(m) + unitOf(m))].map(texEscape).join(' & ') + ' \\\\', '\\midrule');
  L.push([`${TABLE1.baseline.label} (paper)`, '1.04B', '--', TABLE1.baseline.fid.toFixed(2), TABLE1.baseline.clip.toFixed(2), '--', '--'].map(texEscape).join(' & ') + ' \\\\');
  L.push([`${TABLE1.crossflow.label} (paper)`, '0.95B', '--', TABLE1.crossflow.fid.toFixed(2), TABLE1.crossflow.clip.toFixed(2), '--', '--'].map(texEscape).join(' & ') + ' \\\\', '\\midrule');
  for (const s of res.sizes)
    for (const family of ['baseline', 'crossflow'] as const) {
      const r = s[family];
      L.push([r.results.row.label, r.params ? `${(r.params.model / 1e6).toFixed(2)}M` : '--', String(r.results.bySeed.size), ...cols.map((m) => formatSummary(r.results.stats[m], m, false))].map(texEscape).join(' & ') + ' \\\\');
    }
  L.push('\\bottomrule', '\\end{tabular}');
  return L.join('\n') + '\n';
}

export interface WrittenScalingReport {
  report: string;
  tex: string;
  figures: string[];
  results: ScalingResults;
}

/** Writes REPORT.md, table.tex and the figures; figures go to results/figures/ (elsewhere: beside the results). */
export async function writeScalingReport(study: Study, profile: Profile, dirs: SweepDirs, opts: { figures?: boolean } = {}): Promise<WrittenScalingReport> {
  const res = collectScaling(study, profile, dirs);
  await fillPlannedParams(res);
  const dir = path.join(dirs.results, study.name);
  const figDir = figuresDir(dirs);
  const written: string[] = [];
  const rel: Record<string, string | null> = {};
  if ((opts.figures ?? true) && hasResults(res)) {
    const prefix = `${study.name}${profile === 'small' ? '' : `-${profile}`}`;
    const speed = speedOf(res); // read once
    const figs: Array<[string, PlotlyFigure | Buffer | null]> = [
      ['vs-params', paramsFigure(res)],
      ['vs-steps', stepsFigure(res)],
      ['vs-nfe', hasSampling(res) ? nfeFigure(res) : null],
      ['vs-cfg', hasSampling(res) && cfgRows(res).length ? cfgFigure(res) : null],
      ['speed', speed ? speedFigure(speed) : null],
      ['samples', await sampleGrid(res.base)],
    ];
    for (const [name, fig] of figs) {
      if (!fig) continue;
      const e = await exportFigure(`${prefix}-${name}`, fig, { dir: figDir });
      written.push(e.svg, e.png, e.pdf);
      rel[name] = path.relative(dir, e.png);
    }
  }
  const report = path.join(dir, 'REPORT.md');
  writeFileAtomic(report, markdownScalingReport(res, rel));
  const tex = path.join(dir, 'table.tex');
  writeFileAtomic(tex, scalingLatex(res));
  return { report, tex, figures: written, results: res };
}
