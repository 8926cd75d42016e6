// What notebooks/20_latent_arithmetic calls: the quickstart's trained run (trained first when missing),
// and one figure per question: an expression over several seeds, lerp beside slerp, a 2-D grid. Each
// figure is also a PNG that exportFigure writes as SVG, PNG and PDF.
import * as fs from 'fs';
import { displayBundle } from '../display/inline';
import { renderImageGrid } from '../display/imageGrid';
import { showTable } from '../display/table';
import { parseProfile, Profile } from '../notebooks/profile';
import { LoadedRun, loadRun } from '../sampling/generate';
import { notebookProgress } from '../train/progress';
import { quickstartConfig, quickstartPaths } from '../notebooks/quickstart';
import { checkpointPath, train } from '../train/trainer';
import { parseExpression } from './expression';
import { bilinearGrid, combineLatents, interpolationPath, sampleFromLatents } from './latents';
import { arithmeticRows, interpolationRows, readMeasurements } from './report';

/**
 * The quickstart notebook's run for this profile and config overrides (`sets`, as 02_quickstart takes them, e.g.
 * ['seed=1']); trained here (resuming) when it is not complete.
 */
export async function quickstartRun(profileName: string, sets: string[] = []): Promise<LoadedRun> {
  const profile: Profile = parseProfile(profileName);
  const { runDir } = quickstartPaths(profile, sets);
  const config = quickstartConfig(profile, sets);
  const done = fs.existsSync(checkpointPath(runDir)) && fs.existsSync(`${runDir}/summary.json`);
  if (!done) await train({ config, out: runDir, onProgress: notebookProgress(), log: (m) => console.log(m) });
  return loadRun(runDir);
}

type Img = { rgb: Uint8ClampedArray; width: number; height: number };
const toGrid = (images: Img[]) => images.map((im) => ({ width: im.width, height: im.height, data: im.rgb }));

function show(png: Buffer): Buffer {
  displayBundle({ 'image/png': png });
  return png;
}

/** The expression sampled with `seeds` seeds, beside each term's own prompt (seed 0). Returns the PNG. */
export function showExpression(run: LoadedRun, expression: string, seeds = 6, cfg?: number): Buffer {
  const combo = parseExpression(expression);
  const images: Img[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const z = combineLatents(run, [combo], { seed });
    images.push(...sampleFromLatents(run, z, [expression], { cfg, seed }).images);
    z.dispose();
  }
  const terms = [...combo.keys()];
  const zt = combineLatents(run, terms.map((t) => new Map([[t, 1]])), { seed: 0, standardise: false });
  const own = sampleFromLatents(run, zt, terms, { cfg, seed: 0 }).images;
  zt.dispose();
  const cols = Math.max(seeds, terms.length);
  const pad = (xs: Img[], caps: string[]) => [xs, caps, cols - xs.length] as const;
  const [a, capsA, padA] = pad(images, images.map((_, i) => `seed ${i}`));
  const [b, capsB, padB] = pad(own, terms.map((t) => `${combo.get(t)! > 0 ? '+' : '-'}${Math.abs(combo.get(t)!) !== 1 ? Math.abs(combo.get(t)!) + ' ' : ''}"${t}"`));
  const blank = (n: number) => Array.from({ length: n }, () => ({ rgb: new Uint8ClampedArray(a[0].rgb.length).fill(255), width: a[0].width, height: a[0].height }));
  return show(renderImageGrid(toGrid([...a, ...blank(padA), ...b, ...blank(padB)]), {
    cols, rowLabels: ['expression', 'its terms'], captions: [...capsA, ...new Array(padA).fill(''), ...capsB, ...new Array(padB).fill('')], captionLines: 3,
  }));
}

/** One row per path mode through the prompts, lerp above slerp. */
export function showInterpolation(run: LoadedRun, prompts: string[], between = 6, seed = 0, cfg?: number): Buffer {
  const rows: Img[] = [];
  for (const mode of ['lerp', 'slerp'] as const) {
    const z = interpolationPath(run, prompts, between, mode, { seed });
    rows.push(...sampleFromLatents(run, z, new Array(z.shape[0]).fill(''), { cfg, seed }).images);
    z.dispose();
  }
  const per = rows.length / 2;
  const caps = Array.from({ length: per }, (_, i) => (i % (between + 1) === 0 ? prompts[i / (between + 1)] : ''));
  return show(renderImageGrid(toGrid(rows), { cols: per, rowLabels: ['lerp', 'slerp'], captions: [...caps, ...new Array(per).fill('')], captionLines: 3 }));
}

/** The bilinear grid between four corner prompts [TL, TR, BL, BR]. */
export function showGrid(run: LoadedRun, corners: [string, string, string, string], between = 3, seed = 0, cfg?: number): Buffer {
  const z = bilinearGrid(run, corners, between, { seed });
  const images = sampleFromLatents(run, z, new Array(z.shape[0]).fill(''), { cfg, seed }).images;
  z.dispose();
  const side = between + 2;
  const caps = images.map((_, i) => (i === 0 ? corners[0] : i === side - 1 ? corners[1] : i === side * (side - 1) ? corners[2] : i === side * side - 1 ? corners[3] : ''));
  return show(renderImageGrid(toGrid(images), { cols: side, captions: caps, captionLines: 2 }));
}

/** The committed measurements (results/latent/), as tables. */
export function showMeasurements(): void {
  const ms = readMeasurements().map((x) => x.m);
  if (!ms.length) {
    console.log('no measurements committed yet: npx crossflow latent measure --run DIR --save results/latent/<name>.json');
    return;
  }
  showTable(arithmeticRows(ms).map((r) => ({ what: r.what, 'success (%)': `${(100 * r.rate.mean).toFixed(1)}${Number.isFinite(r.rate.sd) ? ` ± ${(100 * r.rate.sd).toFixed(1)}` : ''}`, n: r.n })), { caption: `Arithmetic success over ${ms.length} trained run(s), read by the Shapes judge` });
  showTable(interpolationRows(ms), { caption: 'Interpolation: where the reading switches, and how even the steps are' });
}
