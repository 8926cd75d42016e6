// Scoring a folder of outputs (samples.jsonl + files) with the metrics that apply to what it holds:
// captions against references, depth maps, super-resolution outputs, or text-to-image samples of
// Shapes, MNIST or Fashion-MNIST. `crossflow eval --images DIR` prints what evaluateFolder returns.
import * as fs from 'fs';
import * as path from 'path';
import { parseCaption } from '../data/shapes/captions';
import { MnistDataset } from '../data/mnist';
import { CrossflowError, invalidValue } from '../errors';
import { scoreCaptions } from './captions/index';
import { depthMetrics } from './depth';
import { evaluateDigitImages, labelOfCaption, rgbToGray } from './digitsEval';
import { FolderLine, imageFileOf, readImageFolder, readPngRgb, readSamplesJsonl } from './folder';
import { psnr } from './image/psnr';
import { ssim } from './image/ssim';
import { captionAttributeAccuracy, evaluateShapesImages, shapesFid } from './shapesEval';

/** Progress chatter goes to stderr, so a --json report on stdout stays one object. */
function stderrLine(message: string): void {
  process.stderr.write(message + '\n');
}

const DATASETS = ['shapes', 'mnist', 'fashion'] as const;
type EvalDataset = (typeof DATASETS)[number];

/** The dataset of a folder: a `dataset` field, else the captions' language. */
export function inferDataset(lines: FolderLine[]): EvalDataset {
  const named = lines.find((l) => typeof l.dataset === 'string')?.dataset as string | undefined;
  if (named) {
    if (!(DATASETS as readonly string[]).includes(named)) throw invalidValue('dataset', named, DATASETS.join(', '));
    return named as EvalDataset;
  }
  const captions = lines.map((l) => String(l.caption ?? '')).filter(Boolean).slice(0, 50);
  if (captions.length && captions.every((c) => labelOfCaption('mnist', c) >= 0)) return 'mnist';
  if (captions.length && captions.every((c) => labelOfCaption('fashion', c) >= 0)) return 'fashion';
  if (captions.length && captions.every((c) => { try { parseCaption(c); return true; } catch { return false; } })) return 'shapes';
  throw new CrossflowError("cannot tell the dataset of the folder: add a 'dataset' field (shapes, mnist, fashion) to samples.jsonl");
}

/** Scores a sample folder with the metrics that apply to what it holds. */
export async function evaluateFolder(dir: string, opts: { count?: number; realCount?: number; log?: (message: string) => void } = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? stderrLine;
  const lines = readSamplesJsonl(dir);
  const report: Record<string, unknown> = { source: path.resolve(dir) };
  // Captioning folders: generated captions with references.
  const capLines = lines.filter((l) => typeof (l.prediction ?? l.generated) === 'string' && Array.isArray(l.references ?? l.captions));
  if (capLines.length) {
    const chosen = opts.count ? capLines.slice(0, opts.count) : capLines;
    const preds = chosen.map((l) => String(l.prediction ?? l.generated));
    const refs = chosen.map((l) => (l.references ?? l.captions) as string[]);
    const s = scoreCaptions(preds, refs);
    Object.assign(report, { task: 'captioning', n: s.count, bleu1: s.bleu1, bleu4: s.bleu4, meteor: s.meteor, meteor_variant: 'exact-match METEOR 1.5 parameters', rouge_l: s.rouge_l, cider: s.cider });
    const withAttrs = chosen.filter((l) => l.attributes);
    if (withAttrs.length === chosen.length) {
      report.caption_attributes = captionAttributeAccuracy(preds, chosen.map((l) => l.attributes as never));
    }
    return report;
  }
  // Depth folders: predicted and true depth maps as raw little-endian float32 files (H*W values).
  const depthLines = lines.filter((l) => typeof l.depth_file === 'string' && typeof l.target_depth_file === 'string');
  if (depthLines.length) {
    const chosen = opts.count ? depthLines.slice(0, opts.count) : depthLines;
    const read = (f: string) => {
      const b = fs.readFileSync(path.resolve(dir, f));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const per = chosen.map((l) => depthMetrics(read(l.depth_file as string), read(l.target_depth_file as string)));
    const mean = (k: 'absrel' | 'rmse' | 'delta1' | 'delta2' | 'delta3') => per.reduce((a, m) => a + m[k], 0) / per.length;
    Object.assign(report, { task: 'depth', n: per.length, absrel: mean('absrel'), rmse: mean('rmse'), delta1: mean('delta1'), delta2: mean('delta2'), delta3: mean('delta3'), averaging: 'per image, then mean' });
    return report;
  }
  // Super-resolution folders: each output PNG with its high-resolution target PNG.
  const srLines = lines.filter((l) => imageFileOf(l) && typeof l.target === 'string');
  if (srLines.length) {
    const chosen = opts.count ? srLines.slice(0, opts.count) : srLines;
    let p = 0, q = 0, finite = 0;
    const outputs = [];
    for (const l of chosen) {
      const a = await readPngRgb(path.resolve(dir, imageFileOf(l) as string));
      const b = await readPngRgb(path.resolve(dir, l.target as string));
      if (a.width !== b.width || a.height !== b.height) throw new CrossflowError(`super-resolution output ${imageFileOf(l)} is ${a.width}x${a.height}, target ${b.width}x${b.height}`);
      const v = psnr(a.rgb, b.rgb, 255);
      if (Number.isFinite(v)) { p += v; finite++; }
      q += ssim(a.rgb, b.rgb, a.height, a.width, 3);
      outputs.push({ ...a, caption: String(l.caption ?? '') });
    }
    Object.assign(report, { task: 'super-resolution', n: chosen.length, psnr: finite ? p / finite : Infinity, ssim: q / chosen.length });
    const dataset = typeof lines[0].dataset === 'string' ? (lines[0].dataset as string) : null;
    if (dataset === 'mnist' || dataset === 'fashion') {
      const r = await evaluateDigitImages(dataset, outputs.map(rgbToGray), outputs.map((o) => o.caption));
      Object.assign(report, { fid: r.fid, fid_n: r.fid_n, fid_name: r.fid_name, fid_reference_n: r.fid_reference_n });
    } else if (dataset === 'shapes') {
      const r = await shapesFid(outputs, opts.realCount);
      Object.assign(report, { fid: r.fid, fid_n: r.fid_n, fid_name: r.name, fid_reference_n: r.reference_n });
    }
    return report;
  }
  if (!lines.some((l) => imageFileOf(l))) throw new CrossflowError(`${dir}/samples.jsonl has neither image files nor generated captions`);
  const dataset = inferDataset(lines);
  const images = await readImageFolder(dir, opts.count);
  log(`${images.length} images from ${dir} (${dataset})`);
  report.dataset = dataset;
  report.task = 'text-to-image';
  if (dataset === 'shapes') {
    const r = await evaluateShapesImages(images, { realCount: opts.realCount });
    Object.assign(report, {
      fid: r.fid, fid_n: r.fid_n, fid_name: r.fid_name, fid_reference_n: r.fid_reference_n,
      clip_score: r.clip_score, r_precision: r.r_precision, geneval: r.geneval, caption_match: r.caption_match,
      notes: r.notes, seconds: r.seconds,
    });
  } else {
    const r = await evaluateDigitImages(dataset as MnistDataset, images.map(rgbToGray), images.map((i) => i.caption));
    Object.assign(report, r);
  }
  return report;
}
