// Evaluation of Shapes images against the real test split, read by the Shapes judge:
// FID on judge features, GenEval-style scores, CLIP score and R-precision (small CLIP), and the
// FID sanity ladder that proves the instrument on real data.
import { generateShapes } from '../data/shapes/index';
import { parseCaption, ShapesSpec } from '../data/shapes/captions';
import type { ShapesAttributes } from '../data/shapes/index';
import { loadJudge, judgeShapes, FEATURE_DIM, JudgedObject } from './judges/index';
import { gaussianStats, frechetDistance, fidName, GaussianStats } from './fid';
import { genevalScores, promptsForCaption, GenevalScores } from './geneval/score';
import { GenevalPrompt } from './geneval/prompts';
import { gaussianBlur, addNoise, noiseImage, RgbImage } from './image/degrade';
import { ClipEmbedder, clipScoreFromEmbeddings, rPrecisionFromEmbeddings, loadProjectClip } from './clipScore';

export interface CaptionedImage extends RgbImage {
  caption: string;
}

const realStatsCache = new Map<string, GaussianStats>();

/** Judge-feature statistics of the first `count` real images of a Shapes split (cached per process). */
export async function realShapesStats(count: number, split: 'test' | 'train' = 'test', side = 32): Promise<GaussianStats> {
  const key = `${split}:${count}:${side}`;
  const hit = realStatsCache.get(key);
  if (hit) return hit;
  const { model } = await loadJudge('shapes');
  const real = generateShapes({ split, count, seed: 0, size: side });
  const { features } = await judgeShapes(model, real);
  const stats = gaussianStats(features, count, FEATURE_DIM);
  realStatsCache.set(key, stats);
  return stats;
}

/** FID of images against the real test split, on Shapes-judge features. */
export async function shapesFid(images: RgbImage[], realCount = 5000): Promise<{ fid: number; fid_n: number; name: string; reference_n: number }> {
  const { model } = await loadJudge('shapes');
  const { features } = await judgeShapes(model, images);
  const fid = frechetDistance(gaussianStats(features, images.length, FEATURE_DIM), await realShapesStats(realCount));
  return { fid, fid_n: images.length, name: fidName(images.length), reference_n: realCount };
}

export interface ShapesEvalOptions {
  /** Real test images for the FID reference statistics (default 5000). */
  realCount?: number;
  /** A CLIP to use; false skips CLIP score; default: the project's small CLIP if present. */
  clip?: ClipEmbedder | false;
}

export interface ShapesEvalResult {
  fid: number;
  fid_n: number;
  fid_name: string;
  fid_reference_n: number;
  geneval: GenevalScores;
  clip_score: number | null;
  r_precision: number | null;
  /** Fraction of images whose judge reading matches their caption exactly (objects, counts, relation). */
  caption_match: number;
  notes: string[];
  seconds: number;
}

/** Does the judge's reading show exactly what the caption asks for? */
export function readingMatchesCaption(caption: string, read: JudgedObject[], side: number): boolean {
  const spec = parseCaption(caption);
  const want: Record<string, number> = {};
  for (const o of spec.objects) want[`${o.color} ${o.shape}`] = (want[`${o.color} ${o.shape}`] ?? 0) + o.count;
  const got: Record<string, number> = {};
  for (const o of read) got[`${o.color} ${o.shape}`] = (got[`${o.color} ${o.shape}`] ?? 0) + 1;
  const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
  if (![...keys].every((k) => want[k] === got[k])) return false;
  for (const o of spec.objects) {
    if (!o.size) continue;
    if (!read.some((r) => r.color === o.color && r.shape === o.shape && r.size === o.size)) return false;
  }
  if (spec.kind === 'relation' && spec.relation) {
    const [a, b] = spec.objects;
    const ra = read.find((r) => r.color === a.color && r.shape === a.shape)!;
    const rb = read.find((r) => r.color === b.color && r.shape === b.shape)!;
    const m = 0.1 * side;
    const dx = rb.cx - ra.cx, dy = rb.cy - ra.cy;
    const ok = { 'left of': dx > m, 'right of': -dx > m, above: dy > m, below: -dy > m }[spec.relation];
    if (!ok) return false;
  }
  return true;
}

/** Scores captioned Shapes images (e.g. a folder written by `crossflow sample`). */
export async function evaluateShapesImages(items: CaptionedImage[], opts: ShapesEvalOptions = {}): Promise<ShapesEvalResult> {
  const t0 = Date.now();
  const notes: string[] = [];
  const { model } = await loadJudge('shapes');
  const { objects, features } = await judgeShapes(model, items);
  const realCount = opts.realCount ?? 5000;
  const fid = frechetDistance(gaussianStats(features, items.length, FEATURE_DIM), await realShapesStats(realCount));
  // GenEval tasks from each caption.
  const prompts: GenevalPrompt[] = [];
  const reads: JudgedObject[][] = [];
  let matched = 0;
  items.forEach((it, i) => {
    for (const p of promptsForCaption(it.caption)) {
      prompts.push(p);
      reads.push(objects[i]);
    }
    if (readingMatchesCaption(it.caption, objects[i], it.width)) matched++;
  });
  const geneval = genevalScores(prompts, reads, items[0]?.width ?? 32);
  let clipScore: number | null = null;
  let rPrecision: number | null = null;
  if (opts.clip !== false) {
    try {
      const clip = opts.clip ?? (await loadProjectClip());
      const img = await clip.embedImages(items);
      const txt = await clip.embedTexts(items.map((it) => it.caption));
      clipScore = clipScoreFromEmbeddings(img, txt, clip.dim);
      rPrecision = rPrecisionFromEmbeddings(img, txt, items.map((it) => it.caption), clip.dim);
    } catch (err) {
      notes.push(`clip_score skipped: ${(err as Error).message}`);
    }
  }
  return {
    fid, fid_n: items.length, fid_name: fidName(items.length), fid_reference_n: realCount,
    geneval, clip_score: clipScore, r_precision: rPrecision, caption_match: matched / Math.max(1, items.length),
    notes, seconds: (Date.now() - t0) / 1000,
  };
}

export interface LadderRung {
  name: string;
  fid: number;
}

/**
 * The FID sanity ladder on real data: real test vs real train (should be near 0), vs blurred test
 * images (sigma 0.5, 1, 2 px), vs noisy test images (std 25 of 255), vs uniform noise.
 */
export async function fidSanityLadder(n = 1000, realCount = n): Promise<LadderRung[]> {
  const { model } = await loadJudge('shapes');
  const ref = await realShapesStats(realCount, 'test');
  // Candidates are drawn from different indices than the reference where both come from test.
  const test = generateShapes({ split: 'test', count: n, seed: 0, start: realCount, size: 32 });
  const train = generateShapes({ split: 'train', count: n, seed: 0, size: 32 });
  const rungs: Array<[string, RgbImage[]]> = [
    ['real test (other images)', test],
    ['real train', train],
    ['blur sigma 0.5', test.map((s) => gaussianBlur(s, 0.5))],
    ['blur sigma 1', test.map((s) => gaussianBlur(s, 1))],
    ['blur sigma 2', test.map((s) => gaussianBlur(s, 2))],
    ['noise std 25', test.map((s, i) => addNoise(s, 25, `ladder-noise:${i}`))],
    ['uniform noise', test.map((_, i) => noiseImage(32, 32, `ladder-uniform:${i}`))],
  ];
  const out: LadderRung[] = [];
  for (const [name, images] of rungs) {
    const { features } = await judgeShapes(model, images);
    out.push({ name, fid: frechetDistance(gaussianStats(features, n, FEATURE_DIM), ref) });
  }
  return out;
}

/**
 * Attribute accuracy of generated captions against the true scene: the caption must parse in the
 * Shapes language; `objects` = fraction of named color-shape objects present in the scene;
 * `counts` = fraction of count captions whose number is right; `relations` = fraction of relation
 * captions whose relation holds in the scene; `exact` = all of these right for the caption.
 */
export function captionAttributeAccuracy(captions: string[], truth: ShapesAttributes[]): { parsed: number; objects: number; counts: number; relations: number; exact: number } {
  let parsed = 0, objTotal = 0, objRight = 0, cntTotal = 0, cntRight = 0, relTotal = 0, relRight = 0, exact = 0;
  captions.forEach((c, i) => {
    let spec: ShapesSpec;
    try {
      spec = parseCaption(c);
    } catch {
      return;
    }
    parsed++;
    const t = truth[i];
    let ok = true;
    const present = spec.objects.map((o) => (t.counts[`${o.color} ${o.shape}`] ?? 0) > 0);
    objTotal += present.length;
    objRight += present.filter(Boolean).length;
    if (present.includes(false)) ok = false;
    if (spec.kind === 'count') {
      cntTotal++;
      const o = spec.objects[0];
      if ((t.counts[`${o.color} ${o.shape}`] ?? 0) === o.count) cntRight++;
      else ok = false;
    }
    if (spec.kind === 'relation') {
      relTotal++;
      const [a, b] = spec.objects;
      const ia = t.objects.findIndex((o) => o.color === a.color && o.shape === a.shape);
      const ib = t.objects.findIndex((o) => o.color === b.color && o.shape === b.shape);
      if (ia >= 0 && ib >= 0 && t.relations.some((r) => r.a === ia && r.b === ib && r.relation === spec.relation)) relRight++;
      else ok = false;
    }
    if (ok) exact++;
  });
  const n = Math.max(1, captions.length);
  return {
    parsed: parsed / n,
    objects: objTotal ? objRight / objTotal : NaN,
    counts: cntTotal ? cntRight / cntTotal : NaN,
    relations: relTotal ? relRight / relTotal : NaN,
    exact: exact / n,
  };
}
