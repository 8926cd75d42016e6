// Helpers for notebooks/03_metrics.ipynb: each instrument shown on real data, as table rows and
// plotly figures (the notebook stays a thin narrative).
import type { PlotlyFigure } from '../display/plotly';
import { scoreCaptions } from '../eval/captions/index';
import { LadderRung } from '../eval/shapesEval';
import { sampleForCaption, generateShapes } from '../data/shapes/index';
import { genevalPrompts, GENEVAL_TASKS } from '../eval/geneval/prompts';
import { genevalScores } from '../eval/geneval/score';
import { loadJudge, judgeShapes } from '../eval/judges/index';
import { psnr } from '../eval/image/psnr';
import { ssim } from '../eval/image/ssim';
import { gaussianBlur, addNoise } from '../eval/image/degrade';
import { depthMetrics } from '../eval/depth';

/** Caption metrics on a worked example: real reference captions vs three candidate captioners. */
export function captionMetricRows(): object[] {
  const scenes = generateShapes({ split: 'test', count: 200, seed: 0 });
  const refs = scenes.map((s) => s.captions.slice(1)); // paraphrases as references
  const perfect = scenes.map((s) => s.caption);
  const shuffled = scenes.map((_, i) => scenes[(i + 1) % scenes.length].caption);
  const generic = scenes.map(() => 'a shape');
  return [
    { captioner: 'canonical caption (right scene)', ...round(scoreCaptions(perfect, refs)) },
    { captioner: "another scene's caption", ...round(scoreCaptions(shuffled, refs)) },
    { captioner: "constant 'a shape'", ...round(scoreCaptions(generic, refs)) },
  ];
}

function round(o: object): object {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v]));
}

/** A bar chart of the ladder (log axis: the rungs span orders of magnitude). */
export function ladderFigure(rungs: LadderRung[], n: number): PlotlyFigure {
  return {
    data: [{ type: 'bar', x: rungs.map((r) => r.name), y: rungs.map((r) => Math.max(r.fid, 1e-4)), text: rungs.map((r) => r.fid.toFixed(3)), textposition: 'outside' }],
    layout: {
      title: { text: `FID sanity ladder on real Shapes data (FID-${n >= 1000 ? n / 1000 + 'K' : n}, judge features)` },
      yaxis: { type: 'log', title: { text: 'FID vs real test split' } },
      xaxis: { tickangle: -20 },
      margin: { b: 110 },
    },
  };
}

/** A confusion-matrix heatmap (rows: true class, columns: predicted), counts annotated. */
export function confusionFigure(matrix: number[][], labels: string[], title: string): PlotlyFigure {
  const rowSums = matrix.map((r) => Math.max(1, r.reduce((a, b) => a + b, 0)));
  return {
    data: [{
      type: 'heatmap', z: matrix.map((r, i) => r.map((v) => v / rowSums[i])), x: labels, y: labels, colorscale: 'Blues', zmin: 0, zmax: 1,
      text: matrix.map((r) => r.map(String)), texttemplate: '%{text}', showscale: false,
    }],
    layout: { title: { text: title }, xaxis: { title: { text: 'predicted' } }, yaxis: { title: { text: 'true' }, autorange: 'reversed' }, width: 520, height: 480 },
  };
}

/** GenEval-style scores of REAL renders of the prompt set: the ceiling a perfect generator reaches. */
export async function genevalOnRealRows(perTask: number, samplesPerPrompt = 2): Promise<{ rows: object[]; overall: number }> {
  const prompts = genevalPrompts({ perTask });
  const expanded = prompts.flatMap((p) => Array.from({ length: samplesPerPrompt }, (_, k) => ({ p, k })));
  const images = expanded.map(({ p, k }) => sampleForCaption(p.prompt, { seed: k }));
  const { model } = await loadJudge('shapes');
  const { objects } = await judgeShapes(model, images);
  const s = genevalScores(expanded.map((e) => e.p), objects, 32);
  const rows: object[] = GENEVAL_TASKS.map((t) => ({ task: t as string, prompts: prompts.filter((p) => p.task === t).length, images: s.counts[t], score: Math.round(s[t] * 1e4) / 1e4 }));
  rows.push({ task: 'overall (mean of six)', prompts: prompts.length, images: expanded.length, score: Math.round(s.overall * 1e4) / 1e4 });
  return { rows, overall: s.overall };
}

/** PSNR / SSIM of degraded real test images against the originals. */
export function imageQualityRows(n: number): object[] {
  const test = generateShapes({ split: 'test', count: n, seed: 0 });
  const cases: Array<[string, (s: (typeof test)[number], i: number) => Uint8ClampedArray]> = [
    ['identical', (s) => s.rgb],
    ['blur sigma 0.5', (s) => gaussianBlur(s, 0.5).rgb],
    ['blur sigma 1', (s) => gaussianBlur(s, 1).rgb],
    ['noise std 10', (s, i) => addNoise(s, 10, `q:${i}`).rgb],
    ['noise std 25', (s, i) => addNoise(s, 25, `q:${i}`).rgb],
  ];
  return cases.map(([name, f]) => {
    let p = 0, q = 0, finite = 0;
    test.forEach((s, i) => {
      const d = f(s, i);
      const v = psnr(s.rgb, d);
      if (Number.isFinite(v)) { p += v; finite++; }
      q += ssim(s.rgb, d, 32, 32, 3);
    });
    return { degradation: name, psnr_db: finite ? Math.round((p / finite) * 100) / 100 : 'inf (identical)', ssim: Math.round((q / n) * 1e4) / 1e4 };
  });
}

/** Depth metrics of simple corrupted predictions against a depth map (scale error, noise). */
export function depthMetricRows(gt: Float32Array): object[] {
  const cases: Array<[string, (g: number, i: number) => number]> = [
    ['exact', (g) => g],
    ['x1.1 scale', (g) => g * 1.1],
    ['x1.3 scale', (g) => g * 1.3],
    ['+-20% alternating', (g, i) => g * (i % 2 ? 1.2 : 0.8)],
  ];
  return cases.map(([name, f]) => {
    const m = depthMetrics(gt.map((g, i) => f(g, i)), gt);
    return { prediction: name, absrel: +m.absrel.toFixed(4), rmse: +m.rmse.toFixed(4), delta1: +m.delta1.toFixed(4), delta2: +m.delta2.toFixed(4), delta3: +m.delta3.toFixed(4) };
  });
}
