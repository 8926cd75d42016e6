// Latent arithmetic and interpolation, measured rather than shown off, with the Shapes judge.
// Arithmetic: "a c1 s1" - "a c1 s2" + "a c2 s2" -> a c2 s1 over every c1 != c2, s1 != s2 (360 expressions
// with 6 colours and 4 shapes). Each is at once a colour swap (of "a c1 s1": c1 -> c2) and a shape swap
// (of "a c2 s2": s2 -> s1): the two families are the same parallelogram, so the set holds each
// expression once. A sample succeeds when the judge's most confident object is the target's colour and
// shape. Beside it, the ceiling (the target's own prompt) and the floor (a standardised N(0, I) latent, as
// a VE latent under its prior), with as many samples per target, and the split into targets that are
// held-out pairs (never seen in training).
// Interpolation: along paths between two single-object prompts, where the judge's reading switches
// from the first prompt to the second, whether it switches once, and how even the steps are.
import * as tf from '@tensorflow/tfjs';
import { COLORS, SHAPES, Color, Shape, isHeldoutPair } from '../data/shapes/world';
import { judgeShapes, loadJudge } from '../eval/judges/index';
import { generateFrom, LoadedRun } from '../sampling/generate';
import { normals } from '../data/rng';
import { LinearCombination } from './expression';
import { combineLatents, encodeTexts, interpolationPath, PathMode, standardise } from './latents';

const article = (c: string) => (/^[aeiou]/.test(c) ? 'an' : 'a');
export const promptOf = (c: Color, s: Shape) => `${article(c)} ${c} ${s}`;

export interface ArithmeticItem {
  combo: LinearCombination;
  expression: string;
  target: { color: Color; shape: Shape };
}

/** The systematic set: every parallelogram "a c1 s1" - "a c1 s2" + "a c2 s2" -> a c2 s1 (360 with 6 colours, 4 shapes). */
export function arithmeticSet(): ArithmeticItem[] {
  const out: ArithmeticItem[] = [];
  for (const c1 of COLORS) for (const c2 of COLORS) for (const s1 of SHAPES) for (const s2 of SHAPES) {
    if (c1 === c2 || s1 === s2) continue;
    const [plus1, minus, plus2] = [promptOf(c1, s1), promptOf(c1, s2), promptOf(c2, s2)];
    out.push({ combo: new Map([[plus1, 1], [minus, -1], [plus2, 1]]), expression: `"${plus1}" - "${minus}" + "${plus2}"`, target: { color: c2, shape: s1 } });
  }
  return out;
}

type Image = { rgb: Uint8ClampedArray; width: number; height: number };

/** Whether the judge's most confident object in each image is the target. */
async function readsTarget(images: Image[], targets: Array<{ color: Color; shape: Shape }>): Promise<boolean[]> {
  const { model } = await loadJudge('shapes');
  const { objects } = await judgeShapes(model, images);
  return objects.map((objs, i) => {
    const top = [...objs].sort((a, b) => b.score - a.score)[0];
    return !!top && top.color === targets[i].color && top.shape === targets[i].shape;
  });
}

/** Images from source latents, in batches of 128. */
function sampleAll(run: LoadedRun, z0: tf.Tensor4D, cfg: number, seed: number): Image[] {
  const out: Image[] = [];
  for (let i = 0; i < z0.shape[0]; i += 128) {
    const n = Math.min(128, z0.shape[0] - i);
    const chunk = z0.slice([i], [n]);
    out.push(...generateFrom(run, chunk, new Array(n).fill(''), { cfg, seed }).images);
    chunk.dispose();
  }
  return out;
}

export interface RateRow {
  /** Fraction of successes, its count and the number of samples. */
  rate: number;
  k: number;
  n: number;
}

const rate = (ok: boolean[]): RateRow => ({ rate: ok.filter(Boolean).length / Math.max(1, ok.length), k: ok.filter(Boolean).length, n: ok.length });

export interface ArithmeticResult {
  /** Per sampling seed, so runs can be pooled or spread shown. */
  seeds: number[];
  arithmetic: { all: RateRow; seenTargets: RateRow; heldoutTargets: RateRow };
  ceiling: { all: RateRow; seenTargets: RateRow; heldoutTargets: RateRow };
  floor: { all: RateRow };
  /** Unstandardised sums, the paper's step left out. */
  unstandardised: { all: RateRow };
}

export async function measureArithmetic(run: LoadedRun, opts: { seeds: number; cfg: number; mode?: 'mean' | 'sampled'; log?: (m: string) => void }): Promise<ArithmeticResult> {
  const items = arithmeticSet();
  // The references get as many samples per target as the arithmetic set has expressions per target (15).
  const perTarget = items.length / (COLORS.length * SHAPES.length);
  const targets = COLORS.flatMap((c) => SHAPES.map((s) => ({ color: c, shape: s })));
  const refTargets = targets.flatMap((t) => Array.from({ length: perTarget }, () => t));
  const ok = { arith: [] as boolean[], raw: [] as boolean[], ceil: [] as boolean[], floor: [] as boolean[] };
  const held = { arith: [] as boolean[], ceil: [] as boolean[] };
  const seeds = Array.from({ length: opts.seeds }, (_, k) => k);
  for (const seed of seeds) {
    opts.log?.(`arithmetic, seed ${seed}: ${items.length} expressions (standardised and not), ${refTargets.length} direct prompts, ${refTargets.length} random latents`);
    const enc = { mode: opts.mode ?? 'sampled', seed } as const;
    const z = combineLatents(run, items.map((it) => it.combo), enc);
    ok.arith.push(...(await readsTarget(sampleAll(run, z, opts.cfg, seed), items.map((it) => it.target))));
    z.dispose();
    const zr = combineLatents(run, items.map((it) => it.combo), { ...enc, standardise: false });
    ok.raw.push(...(await readsTarget(sampleAll(run, zr, opts.cfg, seed), items.map((it) => it.target))));
    zr.dispose();
    items.forEach((it) => held.arith.push(isHeldoutPair(it.target.color, it.target.shape)));
    // Direct prompts: each target's prompt with perTarget different latent samples (sub-seeds of this seed).
    const direct = Array.from({ length: perTarget }, (_, k) => encodeTexts(run, targets.map((t) => promptOf(t.color, t.shape)), { ...enc, seed: seed * 1000 + k }));
    const zd = tf.tidy(() => tf.stack(direct, 1).reshape([refTargets.length, ...direct[0].shape.slice(1)]) as tf.Tensor4D); // target-major
    tf.dispose(direct);
    ok.ceil.push(...(await readsTarget(sampleAll(run, zd, opts.cfg, seed), refTargets)));
    refTargets.forEach((t) => held.ceil.push(isHeldoutPair(t.color, t.shape)));
    const [, L, , C] = zd.shape;
    zd.dispose();
    const zn = tf.tidy(() => standardise(tf.tensor4d(normals(`latent-floor:${seed}`, refTargets.length * L * L * C), [refTargets.length, L, L, C])));
    ok.floor.push(...(await readsTarget(sampleAll(run, zn, opts.cfg, seed), refTargets)));
    zn.dispose();
  }
  const pick = (v: boolean[], mask: boolean[]) => v.filter((_, i) => mask[i]);
  return {
    seeds,
    arithmetic: { all: rate(ok.arith), seenTargets: rate(pick(ok.arith, held.arith.map((h) => !h))), heldoutTargets: rate(pick(ok.arith, held.arith)) },
    ceiling: { all: rate(ok.ceil), seenTargets: rate(pick(ok.ceil, held.ceil.map((h) => !h))), heldoutTargets: rate(pick(ok.ceil, held.ceil)) },
    floor: { all: rate(ok.floor) },
    unstandardised: { all: rate(ok.raw) },
  };
}

/** The interpolation paths: each colour-shape pair to the next colour and next shape (24 paths). */
export function interpolationPairs(): Array<[string, string, { color: Color; shape: Shape }, { color: Color; shape: Shape }]> {
  return COLORS.flatMap((c, i) =>
    SHAPES.map((s, j) => {
      const c2 = COLORS[(i + 1) % COLORS.length];
      const s2 = SHAPES[(j + 1) % SHAPES.length];
      return [promptOf(c, s), promptOf(c2, s2), { color: c, shape: s }, { color: c2, shape: s2 }] as [string, string, { color: Color; shape: Shape }, { color: Color; shape: Shape }];
    }),
  );
}

/** Largest distance between neighbouring images over the mean neighbour distance (1 = perfectly even). */
export function unevenness(images: ReadonlyArray<{ rgb: ArrayLike<number> }>): number {
  const d: number[] = [];
  for (let i = 1; i < images.length; i++) {
    let s = 0;
    const a = images[i - 1].rgb, b = images[i].rgb;
    for (let k = 0; k < a.length; k++) s += ((a[k] - b[k]) / 255) ** 2;
    d.push(Math.sqrt(s));
  }
  const mean = d.reduce((x, y) => x + y, 0) / d.length;
  return mean > 0 ? Math.max(...d) / mean : 1;
}

export interface PathReading {
  /** Fraction along the path of the first image read as the second prompt (null: never). */
  switchAt: number | null;
  /** Readings go first-prompt ... second-prompt with at most one change between them (anything else read counts as neither). */
  monotonic: boolean;
  unevenness: number;
}

export interface InterpolationResult {
  mode: PathMode;
  between: number;
  paths: number;
  /** Mean over paths that switch. */
  meanSwitchAt: number;
  switched: number;
  monotonic: number;
  meanUnevenness: number;
  endpointsRead: number;
}

export async function measureInterpolation(run: LoadedRun, opts: { mode: PathMode; between: number; seeds: number; cfg: number; log?: (m: string) => void }): Promise<InterpolationResult> {
  const pairs = interpolationPairs();
  const readings: PathReading[] = [];
  let endpoints = 0;
  const { model } = await loadJudge('shapes');
  for (let seed = 0; seed < opts.seeds; seed++) {
    opts.log?.(`interpolation (${opts.mode}), seed ${seed}: ${pairs.length} paths of ${opts.between + 2} images`);
    const paths = pairs.map(([a, b]) => interpolationPath(run, [a, b], opts.between, opts.mode, { mode: 'sampled', seed }));
    const z = tf.concat(paths) as tf.Tensor4D;
    tf.dispose(paths);
    const images = sampleAll(run, z, opts.cfg, seed);
    z.dispose();
    const { objects } = await judgeShapes(model, images);
    const K = opts.between + 2;
    pairs.forEach(([, , ta, tb], p) => {
      const reads = objects.slice(p * K, (p + 1) * K).map((objs) => {
        const top = [...objs].sort((x, y) => y.score - x.score)[0];
        return !top ? 'other' : top.color === tb.color && top.shape === tb.shape ? 'b' : top.color === ta.color && top.shape === ta.shape ? 'a' : 'other';
      });
      const first = reads.indexOf('b');
      const seq = reads.filter((r) => r !== 'other').join('');
      endpoints += +(reads[0] === 'a') + +(reads[K - 1] === 'b');
      readings.push({ switchAt: first < 0 ? null : first / (K - 1), monotonic: /^a*b*$/.test(seq) && reads[0] === 'a' && reads[K - 1] === 'b', unevenness: unevenness(images.slice(p * K, (p + 1) * K)) });
    });
  }
  const switched = readings.filter((r) => r.switchAt !== null);
  return {
    mode: opts.mode, between: opts.between, paths: readings.length,
    meanSwitchAt: switched.reduce((s, r) => s + r.switchAt!, 0) / Math.max(1, switched.length),
    switched: switched.length / readings.length,
    monotonic: readings.filter((r) => r.monotonic).length / readings.length,
    meanUnevenness: readings.reduce((s, r) => s + r.unevenness, 0) / readings.length,
    endpointsRead: endpoints / (2 * readings.length),
  };
}
