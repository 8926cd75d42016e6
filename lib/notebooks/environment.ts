// The logic behind notebooks/00_environment.ipynb: what runs here (backend, versions), how fast
// (matmul sweep, the ref-dit training step), and a look at the display helpers (grid, plot, table).
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { createCanvas } from 'canvas';
import type { BackendReport } from '../backend/select';
import type { ImageGridOptions, RgbImage } from '../display/imageGrid';
import type { PlotlyFigure } from '../display/plotly';
import { byProfile, profile } from './profile';
import { repoPath } from '../paths';

/** The backend report as table rows. */
export function backendRows(report: BackendReport): Array<{ item: string; value: string }> {
  const rows = [
    { item: 'backend', value: report.backend },
    { item: 'tfjs backend name', value: report.tfjsBackend },
    { item: 'requested (CROSSFLOW_BACKEND)', value: report.requested ?? '(automatic)' },
    { item: 'why this backend', value: report.reason },
    { item: 'BLAS library', value: report.blasLibrary ?? '-' },
    { item: 'BLAS threads', value: report.blasThreads === null ? '-' : String(report.blasThreads) },
    { item: 'run profile', value: profile() },
  ];
  for (const [pkg, version] of Object.entries(report.versions)) rows.push({ item: pkg, value: version });
  for (const [backend, build] of Object.entries(report.installed)) rows.push({ item: `TensorFlow build: ${backend}`, value: build });
  for (const [backend, why] of Object.entries(report.skipped)) rows.push({ item: `skipped: ${backend}`, value: why });
  return rows;
}

export interface MatmulPoint {
  n: number;
  ms: number;
  gflops: number;
}

/**
 * fp32 square matmul throughput on the active backend: the median over timed (N,N)x(N,N)
 * products, each including the read-back of the result; at least 5 per size and as many as fit
 * in about `budgetMs` (tiny sizes are noisy). Sizes default by profile.
 */
export function matmulSweep(sizes?: number[], budgetMs = 100): MatmulPoint[] {
  const ns = sizes ?? byProfile({ smoke: [32, 64, 128, 256], small: [32, 64, 128, 256, 512, 1024], paper: [32, 64, 128, 256, 512, 1024, 2048] });
  return ns.map((n) => {
    const [a, b] = [tf.randomNormal([n, n], 0, 1, 'float32', 1), tf.randomNormal([n, n], 0, 1, 'float32', 2)];
    const once = (): number => {
      const t0 = performance.now();
      const c = tf.matMul(a, b); // (N, N) x (N, N) -> (N, N)
      c.dataSync();
      c.dispose();
      return performance.now() - t0;
    };
    once(); // warm-up: kernel set-up and allocation
    const times: number[] = [];
    for (let spent = 0; times.length < 5 || (spent < budgetMs && times.length < 500); ) {
      times.push(once());
      spent += times[times.length - 1];
    }
    times.sort((x, y) => x - y);
    tf.dispose([a, b]);
    const ms = times[Math.floor(times.length / 2)];
    return { n, ms, gflops: (2 * n ** 3) / (ms * 1e6) };
  });
}

export function matmulFigure(points: MatmulPoint[], backend: string): PlotlyFigure {
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: `matmul (${backend})`,
        x: points.map((p) => p.n),
        y: points.map((p) => p.gflops),
        hovertemplate: 'N=%{x}: %{y:.1f} GFLOP/s<extra></extra>',
      },
    ],
    layout: {
      title: { text: `fp32 matmul throughput, ${backend} backend` },
      xaxis: { title: { text: 'matrix size N (N x N times N x N)' }, type: 'log', tickvals: points.map((p) => p.n) },
      yaxis: { title: { text: 'GFLOP/s' }, rangemode: 'tozero' },
      width: 720,
      height: 420,
      margin: { t: 60, r: 30 },
    },
  };
}

export const REF_DIT_RESULTS = repoPath('results', 'bench', 'ref-dit.json');

export interface RefDitRow {
  source: string;
  backend: string;
  batch: number | string;
  steps: number | string;
  step_ms_median: number | string;
}

/**
 * The ref-dit training-step numbers: a live run sized by profile (smoke: 1 warm-up + 2 steps at
 * batch 8; small: 2 + 5 steps at batch 32; paper: the agreed 3 + 20 steps at batch 32), plus the
 * committed results/bench/ref-dit.json (`npm run bench`) when it exists.
 */
export async function refDitRows(): Promise<RefDitRow[]> {
  const rows: RefDitRow[] = [];
  const { runRefDitBench } = await import('../bench/refDit');
  const opts = byProfile({ smoke: { warmup: 1, steps: 2, batch: 8 }, small: { warmup: 2, steps: 5, batch: 32 }, paper: { warmup: 3, steps: 20, batch: 32 } });
  const live = await runRefDitBench(opts);
  rows.push({ source: `this run (profile ${profile()})`, backend: live.backend, batch: live.batch, steps: live.steps, step_ms_median: live.step_ms_median });
  if (fs.existsSync(REF_DIT_RESULTS)) {
    const saved = JSON.parse(fs.readFileSync(REF_DIT_RESULTS, 'utf8')) as Partial<RefDitRow> & Record<string, unknown>;
    rows.push({
      source: 'results/bench/ref-dit.json (npm run bench)',
      backend: String(saved.backend ?? '?'),
      batch: saved.batch ?? '?',
      steps: saved.steps ?? '?',
      step_ms_median: saved.step_ms_median ?? 'not recorded',
    });
  } else {
    rows.push({ source: 'results/bench/ref-dit.json', backend: '-', batch: '-', steps: '-', step_ms_median: 'not yet measured (run npm run bench)' });
  }
  return rows;
}

const PALETTE: Array<[string, string]> = [
  ['red', '#e53935'],
  ['orange', '#fb8c00'],
  ['yellow', '#fdd835'],
  ['green', '#43a047'],
  ['blue', '#1e88e5'],
  ['purple', '#8e24aa'],
];
const SHAPES = ['circle', 'square', 'triangle', 'ring'] as const;

/**
 * Procedurally drawn test images: one row per shape, each a colored shape on a two-color
 * gradient, captioned with what it shows. Deterministic: image (row, col) always looks the same.
 */
export function proceduralGrid(perRow = 6, side = 32): { images: RgbImage[]; options: ImageGridOptions } {
  const images: RgbImage[] = [];
  const captions: string[] = [];
  SHAPES.forEach((shape, r) => {
    for (let c = 0; c < perRow; c++) {
      const [fgName, fg] = PALETTE[(r + c) % PALETTE.length];
      const [fromName, from] = PALETTE[(r + c + 2) % PALETTE.length];
      const [toName, to] = PALETTE[(r + c + 3 + (c % (PALETTE.length - 1))) % PALETTE.length]; // never the 'from' colour
      const canvas = createCanvas(side, side);
      const ctx = canvas.getContext('2d');
      const vertical = c % 2 === 1;
      const gradient = ctx.createLinearGradient(0, 0, vertical ? 0 : side, vertical ? side : 0);
      gradient.addColorStop(0, from);
      gradient.addColorStop(1, to);
      ctx.fillStyle = gradient;
      ctx.fillRect(0, 0, side, side);
      ctx.fillStyle = fg;
      ctx.strokeStyle = fg;
      const [cx, cy, radius] = [side / 2, side / 2, side * (0.22 + 0.03 * (c % 3))];
      ctx.beginPath();
      if (shape === 'circle') ctx.arc(cx, cy, radius, 0, 2 * Math.PI);
      if (shape === 'square') ctx.rect(cx - radius, cy - radius, 2 * radius, 2 * radius);
      if (shape === 'triangle') {
        ctx.moveTo(cx, cy - radius);
        ctx.lineTo(cx + radius, cy + radius);
        ctx.lineTo(cx - radius, cy + radius);
        ctx.closePath();
      }
      if (shape === 'ring') {
        ctx.lineWidth = side / 12;
        ctx.arc(cx, cy, radius, 0, 2 * Math.PI);
        ctx.stroke();
      } else {
        ctx.fill();
      }
      const rgba = ctx.getImageData(0, 0, side, side).data; // (H, W, 4)
      const data = new Uint8Array(side * side * 3); // (H, W, 3)
      for (let p = 0; p < side * side; p++) data.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
      images.push({ width: side, height: side, data });
      captions.push(`${fgName} ${shape} on ${/^[aeiou]/.test(fromName) ? 'an' : 'a'} ${fromName} to ${toName} gradient`);
    }
  });
  return { images, options: { cols: perRow, captions, rowLabels: [...SHAPES], scale: 3, captionLines: 4 } };
}
