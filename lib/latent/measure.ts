// Latent arithmetic and interpolation, measured rather than shown off, with the Shapes judge.
// Arithmetic: colour swaps  "a c1 s1" - "a c1 s2" + "a c2 s2" -> a c2 s1, and
//             shape swaps   "a c1 s1" - "a c2 s1" + "a c2 s2" -> a c1 s2, over every c1 != c2, s1 != s2;
// a sample succeeds when the judge's most confident object is the target's colour and shape. Beside it,
// the ceiling (the target's own prompt) and the floor (a standardised N(0, I) latent, as a VE latent
// under its prior), and the same split into targets that are held-out pairs (never seen in training).
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
  kind: 'color-swap' | 'shape-swap';
  combo: LinearCombination;
  expression: string;
  target: { color: Color; shape: Shape };
}

/** The systematic set: every colour swap and every shape swap (720 expressions with 6 colours, 4 shapes). */
export function arithmeticSet(): ArithmeticItem[] {
  const out: ArithmeticItem[] = [];
  const item = (kind: ArithmeticItem['kind'], plus1: string, minus: string, plus2: string, target: ArithmeticItem['target']): ArithmeticItem => ({
    kind, target,
    combo: new Map([[plus1, 1], [minus, -1], [plus2, 1]]),
    expression: `"${plus1}" - "${minus}" + "${plus2}"`,
  });
  for (const c1 of COLORS) for (const c2 of COLORS) for (const s1 of SHAPES) for (const s2 of SHAPES) {
    if (c1 === c2 || s1 === s2) continue;
    out.push(item('color-swap', promptOf(c1, s1), promptOf(c1, s2), promptOf(c2, s2), { color: c2, shape: s1 }));
    out.push(item('shape-swap', promptOf(c1, s1), promptOf(c2, s1), promptOf(c2, s2), { color: c1, shape: s2 }));
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
  arithmetic: { all: RateRow; colorSwap: RateRow; shapeSwap: RateRow; seenTargets: RateRow; heldoutTargets: RateRow };
  ceiling: { all: RateRow; seenTargets: RateRow; heldoutTargets: RateRow };
  floor: { all: RateRow };
  /** Unstandardised sums, the paper's step left out. */
  unstandardised: { all: RateRow };
}

export async function measureArithmetic(run: LoadedRun, opts: { seeds: number; cfg: number; mode?: 'mean' | 'sampled'; log?: (m: string) => void }): Promise<ArithmeticResult> {
  const items = arithmeticSet();
  const targets = COLORS.flatMap((c) => SHAPES.map((s) => ({ color: c, shape: s })));
  const ok = { arith: [] as boolean[], raw: [] as boolean[], ceil: [] as boolean[], floor: [] as boolean[] };
  const flags = { arithHeld: [] as boolean[], ceilHeld: [] as boolean[], kind: [] as string[] };
  const seeds = Array.from({ length: opts.seeds }, (_, k) => k);
  for (const seed of seeds) {
    opts.log?.(`arithmetic, seed ${seed}: ${items.length} expressions, ${targets.length} direct prompts, ${targets.length} random latents`);
    const enc = { mode: opts.mode ?? 'sampled', seed } as const;
    const z = combineLatents(run, items.map((it) => it.combo), enc);
    ok.arith.push(...(await readsTarget(sampleAll(run, z, opts.cfg, seed), items.map((it) => it.target))));
    z.dispose();
    const zr = combineLatents(run, items.map((it) => it.combo), { ...enc, standardise: false });
    ok.raw.push(...(await readsTarget(sampleAll(run, zr, opts.cfg, seed), items.map((it) => it.target))));
    zr.dispose();
    items.forEach((it) => { flags.arithHeld.push(isHeldoutPair(it.target.color, it.target.shape)); flags.kind.push(it.kind); });
    const zd = encodeTexts(run, targets.map((t) => promptOf(t.color, t.shape)), enc);
    ok.ceil.push(...(await readsTarget(sampleAll(run, zd, opts.cfg, seed), targets)));
    zd.dispose();
    targets.forEach((t) => flags.ceilHeld.push(isHeldoutPair(t.color, t.shape)));
    const [, L, , C] = zd.shape;
    const zn = tf.tidy(() => standardise(tf.tensor4d(normals(`latent-floor:${seed}`, targets.length * L * L * C), [targets.length, L, L, C])));
    ok.floor.push(...(await readsTarget(sampleAll(run, zn, opts.cfg, seed), targets)));
    zn.dispose();
  }
  const pick = (v: boolean[], mask: boolean[]) => v.filter((_, i) => mask[i]);
  return {
    seeds,
    arithmetic: {
      all: rate(ok.arith),
      colorSwap: rate(pick(ok.arith, flags.kind.map((k) => k === 'color-swap'))),
      shapeSwap: rate(pick(ok.arith, flags.kind.map((k) => k === 'shape-swap'))),
      seenTargets: rate(pick(ok.arith, flags.arithHeld.map((h) => !h))),
      heldoutTargets: rate(pick(ok.arith, flags.arithHeld)),
    },
    ceiling: { all: rate(ok.ceil), seenTargets: rate(pick(ok.ceil, flags.ceilHeld.map((h) => !h))), heldoutTargets: rate(pick(ok.ceil, flags.ceilHeld)) },
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
