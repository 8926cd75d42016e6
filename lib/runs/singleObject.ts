// Quick text-to-image check used by the quickstart, `crossflow sample-check` and every study row: generate single-object Shapes prompts and read the
// images back with the project's Shapes judge (lib/eval/judges). A sample is right when the judge's
// most confident object has the prompted color and shape. Held-out pairs (never seen in training,
// neither as images nor as captions) and seen pairs are reported separately.
import * as tf from '@tensorflow/tfjs';
import { sampleForCaption } from '../data/shapes/generate';
import { COLORS, SHAPES, colorShapePairs } from '../data/shapes/world';
import { judgeShapes, loadJudge } from '../eval/judges/index';
import { generateYielding, LoadedRun, SampleOptions } from '../sampling/generate';

export interface SingleObjectResult {
  prompts: number;
  samplesPerPrompt: number;
  /** Fraction of samples whose top object has the right color and shape. */
  accuracy: number;
  color: number;
  shape: number;
  /** Fraction with exactly one object read. */
  oneObject: number;
  perPrompt: Array<{ prompt: string; accuracy: number }>;
  /** What the judge read for each prompted shape: counts of its top object's shape ('none': no object read). */
  shapeConfusion: ShapeConfusion;
}

/** prompted shape -> read shape (or 'none') -> number of samples. */
export type ShapeConfusion = Record<string, Record<string, number>>;

/** One report row: seen or held-out pairs, snake_case as the JSON reports print it. */
export interface SingleObjectRow {
  prompts: 'seen' | 'heldout';
  n: number;
  accuracy: number;
  color: number;
  shape: number;
  one_object: number;
  per_prompt: Array<{ prompt: string; accuracy: number }>;
  shape_confusion: ShapeConfusion;
}

/**
 * Sampling options of the single-object check. `startT` > 0 starts each sample at that t on the path
 * towards a real rendering of its prompt (SampleOptions.start), a diagnostic of where along the path
 * the flow loses the prompt; the renderings are drawn with the sampling seed.
 */
export type CheckOptions = Omit<SampleOptions, 'start'> & { startT?: number };

/** singleObjectAccuracy over the seen or held-out pairs, as a report row. */
export async function singleObjectRow(run: LoadedRun, which: 'seen' | 'heldout', samplesPerPrompt: number, opts: CheckOptions = {}): Promise<SingleObjectRow> {
  const r = await singleObjectAccuracy(run, singleObjectPrompts(which), samplesPerPrompt, opts);
  return { prompts: which, n: r.prompts * samplesPerPrompt, accuracy: r.accuracy, color: r.color, shape: r.shape, one_object: r.oneObject, per_prompt: r.perPrompt, shape_confusion: r.shapeConfusion };
}

export function singleObjectPrompts(which: 'seen' | 'heldout'): string[] {
  return colorShapePairs(which).map(([c, s]) => `${/^[aeiou]/.test(c) ? 'an' : 'a'} ${c} ${s}`);
}

export async function singleObjectAccuracy(run: LoadedRun, prompts: string[], samplesPerPrompt: number, opts: CheckOptions = {}): Promise<SingleObjectResult> {
  const all = prompts.flatMap((p) => Array.from({ length: samplesPerPrompt }, () => p));
  const { startT, ...sampling } = opts;
  const start = startT ? { t: startT, images: all.map((p, index) => sampleForCaption(p, { seed: opts.seed ?? 0, index, size: run.config.data.imageSize })) } : undefined;
  const g = await generateYielding(run, all, { ...sampling, start });
  const { model } = await loadJudge('shapes');
  const { objects } = await judgeShapes(model, g.images);
  let right = 0, color = 0, shape = 0, one = 0;
  const per = new Map<string, number>();
  const readShapes: Array<{ want: string; read: string | null }> = [];
  all.forEach((p, i) => {
    const words = p.split(' ');
    const want = { color: words.find((w) => (COLORS as readonly string[]).includes(w)), shape: words.find((w) => (SHAPES as readonly string[]).includes(w)) };
    const read = [...objects[i]].sort((a, b) => b.score - a.score)[0];
    const ok = !!read && read.color === want.color && read.shape === want.shape;
    right += +ok;
    color += +(!!read && read.color === want.color);
    shape += +(!!read && read.shape === want.shape);
    one += +(objects[i].length === 1);
    if (want.shape) readShapes.push({ want: want.shape, read: read ? read.shape : null });
    per.set(p, (per.get(p) ?? 0) + +ok);
  });
  const n = all.length;
  return {
    prompts: prompts.length, samplesPerPrompt, accuracy: right / n, color: color / n, shape: shape / n, oneObject: one / n,
    perPrompt: [...per].map(([prompt, k]) => ({ prompt, accuracy: k / samplesPerPrompt })),
    shapeConfusion: shapeConfusion(readShapes),
  };
}

/**
 * Counts of what was read for each prompted shape, in SHAPES order, with 'none' for a sample in which no
 * object was read. Only prompted shapes appear as rows; every row lists every shape and 'none' (zeros too),
 * so rows from different runs line up.
 */
export function shapeConfusion(reads: ReadonlyArray<{ want: string; read: string | null }>): ShapeConfusion {
  const cols = [...SHAPES, 'none'];
  const out: ShapeConfusion = {};
  for (const sh of SHAPES) if (reads.some((r) => r.want === sh)) out[sh] = Object.fromEntries(cols.map((c) => [c, 0]));
  for (const { want, read } of reads) {
    const row = out[want];
    if (!row) throw new Error(`shapeConfusion: prompted shape ${JSON.stringify(want)} is not one of ${SHAPES.join(', ')}`);
    const col = read ?? 'none';
    if (!(col in row)) throw new Error(`shapeConfusion: read shape ${JSON.stringify(read)} is not one of ${SHAPES.join(', ')}`);
    row[col] += 1;
  }
  return out;
}

/** Adds confusion tables cell by cell (seen and held-out rows of one guidance weight, say). */
export function addConfusions(tables: ReadonlyArray<ShapeConfusion>): ShapeConfusion {
  const out: ShapeConfusion = {};
  for (const t of tables)
    for (const [want, row] of Object.entries(t)) {
      const o = (out[want] ??= {});
      for (const [read, k] of Object.entries(row)) o[read] = (o[read] ?? 0) + k;
    }
  return Object.fromEntries(SHAPES.filter((sh) => sh in out).map((sh) => [sh, out[sh]]));
}

/**
 * Accuracy per prompted shape from per-prompt accuracies (every prompt has the same number of samples, so
 * this is the mean over the prompts naming that shape). Shapes no prompt names are left out.
 */
export function accuracyByShape(perPrompt: ReadonlyArray<{ prompt: string; accuracy: number }>): Record<string, number> {
  const sums = new Map<string, { sum: number; k: number }>();
  for (const { prompt, accuracy } of perPrompt) {
    const shape = prompt.split(' ').find((w) => (SHAPES as readonly string[]).includes(w));
    if (!shape) continue;
    const e = sums.get(shape) ?? { sum: 0, k: 0 };
    e.sum += accuracy;
    e.k += 1;
    sums.set(shape, e);
  }
  return Object.fromEntries(SHAPES.filter((sh) => sums.has(sh)).map((sh) => [sh, sums.get(sh)!.sum / sums.get(sh)!.k]));
}

/**
 * How far apart the Text VE puts captions that differ in one word. For every pair of shapes: the mean L2
 * distance between VE means mu of "a <color> <shape1>" and "a <color> <shape2>" over the colours; `color`:
 * the same for pairs of colours, averaged over all colour pairs and shapes. CrossFlow's flow sees the caption
 * only through z0 = mu + sigma eps, so two shapes whose means nearly coincide cannot be told apart.
 */
export function attributeDistances(mus: ReadonlyMap<string, ArrayLike<number>>): { shape: Record<string, number>; color: number } {
  const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
    return Math.sqrt(s);
  };
  const parsed = [...mus.keys()].map((p) => {
    const w = p.split(' ');
    return { p, color: w.find((x) => (COLORS as readonly string[]).includes(x)), shape: w.find((x) => (SHAPES as readonly string[]).includes(x)) };
  });
  const shapePairs = new Map<string, number[]>();
  const colorPairs: number[] = [];
  for (let i = 0; i < parsed.length; i++)
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i], b = parsed[j];
      if (!a.color || !a.shape || !b.color || !b.shape) continue;
      const d = dist(mus.get(a.p)!, mus.get(b.p)!);
      if (a.color === b.color && a.shape !== b.shape) {
        const [x, y] = [a.shape, b.shape].sort((u, v) => SHAPES.indexOf(u as (typeof SHAPES)[number]) - SHAPES.indexOf(v as (typeof SHAPES)[number]));
        const key = `${x}-${y}`;
        shapePairs.set(key, [...(shapePairs.get(key) ?? []), d]);
      } else if (a.shape === b.shape && a.color !== b.color) colorPairs.push(d);
    }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  return { shape: Object.fromEntries([...shapePairs].map(([k, v]) => [k, mean(v)])), color: colorPairs.length ? mean(colorPairs) : NaN };
}

/** attributeDistances of a CrossFlow run's Text VE over every single-object caption (seen and held-out pairs). */
export function veAttributeDistances(run: LoadedRun): { shape: Record<string, number>; color: number } | null {
  const ve = run.models.ve;
  if (!ve) return null; // the baseline has no Text VE
  const prompts = [...singleObjectPrompts('seen'), ...singleObjectPrompts('heldout')];
  const mus = tf.tidy(() => {
    const { tokens, mask } = run.text.encode(prompts);
    const { mu } = ve.apply(tokens, mask, null); // (P, L, L, C); eps null: the mean only
    return mu.reshape([prompts.length, -1]).arraySync() as number[][];
  });
  return attributeDistances(new Map(prompts.map((p, i) => [p, mus[i]])));
}
