// Shapes samples: random scenes per split (deterministic by seed), scenes for a given caption,
// and the conversion of a batch to a tensor.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../../errors';
import { Rng, makeRng, sampleRng } from '../rng';
import { captionsOf, parseCaption, SCENE_KINDS, SceneKind, ShapesSpec } from './captions';
import { ObjectRequest, placeObjects, placeOrThrow, relationsOf, RelationFact } from './layout';
import { renderShapes, ShapeObject } from './render';
import {
  Color, colorShapePairs, isHeldoutPair, MAX_COUNT, RELATIONS, Relation, Shape, ShapesSplit, SIZES, Size, SPLITS,
} from './world';

export interface ShapesAttributes {
  /** What the canonical caption describes: one object, a count of identical objects, or a relation. */
  kind: SceneKind;
  objects: ShapeObject[];
  /** Objects per "color shape" key, e.g. { 'blue square': 2 }. */
  counts: Record<string, number>;
  /** Every relation that holds clearly between two objects (centers apart by >= 0.2 of the side). */
  relations: RelationFact[];
  /** For kind 'relation': the relation the caption states, objects[a] <relation> objects[b]. */
  captionRelation?: RelationFact;
}

export interface ShapesSample {
  index: number;
  split: ShapesSplit;
  width: number;
  height: number;
  /** (H, W, 3) row-major RGB bytes. */
  rgb: Uint8ClampedArray;
  /** The canonical caption (== captions[0]). */
  caption: string;
  /** All reference captions (>= 5 paraphrases). */
  captions: string[];
  attributes: ShapesAttributes;
}

export interface ShapesOptions {
  split: ShapesSplit;
  count: number;
  seed: number;
  /** Image side in pixels (default 32). */
  size?: number;
  /** Index of the first sample (default 0): sample i is the same whatever batch it is generated in. */
  start?: number;
  /** Relative weights of the scene kinds (default KIND_WEIGHTS); a kind of weight 0 never appears. */
  kindWeights?: Record<SceneKind, number>;
}

/** Mix of scene kinds in random splits. */
export const KIND_WEIGHTS: Record<SceneKind, number> = { single: 0.3, count: 0.3, relation: 0.4 };
export const DEFAULT_SIDE = 32;

function checkSide(side: number): void {
  if (!Number.isInteger(side) || side < 16 || side > 512) throw invalidValue('size', side, 'an integer image side from 16 to 512 (32 and 64 are the usual ones)');
}

/** Scene-kind weights must be finite, >= 0 and not all 0; errors name `field` (the option or config key). */
export function checkKindWeights(w: Record<SceneKind, number>, field = 'kindWeights'): void {
  for (const k of SCENE_KINDS)
    if (typeof w[k] !== 'number' || !Number.isFinite(w[k]) || w[k] < 0) throw invalidValue(`${field}.${k}`, w[k], 'a finite number >= 0');
  if (SCENE_KINDS.every((k) => w[k] === 0)) throw invalidValue(field, JSON.stringify(w), `weights of ${SCENE_KINDS.join(', ')} with at least one > 0`);
}

function checkSplit(split: string): asserts split is ShapesSplit {
  if (!(SPLITS as readonly string[]).includes(split)) throw invalidValue('split', split, SPLITS.join(', '));
}

/** Draws a random spec (sizes fixed) for a split: held-out pairs only in 'heldout', where one is always present. */
function randomSpec(rng: Rng, split: ShapesSplit, weights: Record<SceneKind, number>): ShapesSpec & { objects: Array<{ size: Size }> } {
  const kind = SCENE_KINDS[rng.weighted(SCENE_KINDS.map((k) => weights[k]))];
  const seen = colorShapePairs('seen');
  const all = colorShapePairs('all');
  const held = colorShapePairs('heldout');
  const main = split === 'heldout' ? held : seen;
  const size = (): Size => rng.pick(SIZES);
  if (kind === 'single') {
    const [color, shape] = rng.pick(main);
    return { kind, objects: [{ color, shape, size: size(), count: 1 }] };
  }
  if (kind === 'count') {
    const [color, shape] = rng.pick(main);
    const count = 2 + rng.int(MAX_COUNT - 1);
    // Three large objects barely fit at any side; mostly show three small ones.
    const z: Size = count === 3 && rng.next() < 0.7 ? 'small' : size();
    return { kind, objects: [{ color, shape, size: z, count }] };
  }
  const relation = rng.pick(RELATIONS);
  const first = rng.pick(main);
  const others = (split === 'heldout' ? all : seen).filter(([c, s]) => c !== first[0] || s !== first[1]);
  const second = rng.pick(others);
  // In held-out scenes the held-out object is the subject or the object of the relation at random.
  const [pa, pb] = rng.next() < 0.5 ? [first, second] : [second, first];
  return {
    kind,
    relation,
    objects: [
      { color: pa[0], shape: pa[1], size: size(), count: 1 },
      { color: pb[0], shape: pb[1], size: size(), count: 1 },
    ],
  };
}

function requestsOf(spec: ShapesSpec, rng: Rng): ObjectRequest[] {
  const requests: ObjectRequest[] = [];
  for (const o of spec.objects) {
    const size = o.size ?? rng.pick(SIZES);
    for (let k = 0; k < o.count; k++) requests.push({ shape: o.shape, color: o.color, size });
  }
  return requests;
}

function countsOf(objects: readonly ShapeObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of objects) counts[`${o.color} ${o.shape}`] = (counts[`${o.color} ${o.shape}`] ?? 0) + 1;
  return counts;
}

/** Builds the sample of a scene spec: placement, rendering, attributes, captions. */
function buildSample(spec: ShapesSpec, rng: Rng, side: number, index: number, split: ShapesSplit, sizesFixed: boolean, drawn: ShapesSpec = spec): ShapesSample {
  let requests = requestsOf(drawn, rng);
  let objects = placeObjects(rng, requests, side, spec.relation);
  if (!objects && !sizesFixed) {
    // The drawn sizes did not fit: make the sizes the caption left open small (always fits).
    const fixed = spec.objects.flatMap((o) => Array.from({ length: o.count }, () => o.size));
    requests = requests.map((r, i) => ({ ...r, size: fixed[i] ?? ('small' as Size) }));
    objects = placeOrThrow(rng, requests, side, spec.relation);
  } else if (!objects) {
    objects = placeOrThrow(rng, requests, side, spec.relation);
  }
  const captions = captionsOf(spec.kind, objects, side, spec.relation);
  const attributes: ShapesAttributes = {
    kind: spec.kind,
    objects,
    counts: countsOf(objects),
    relations: relationsOf(objects, side),
  };
  if (spec.relation) attributes.captionRelation = { a: 0, b: 1, relation: spec.relation };
  return { index, split, width: side, height: side, rgb: renderShapes(objects, side), caption: captions[0], captions, attributes };
}

/** Random samples of a split, deterministic by (split, seed, index). */
export function generateShapes(opts: ShapesOptions): ShapesSample[] {
  checkSplit(opts.split);
  const side = opts.size ?? DEFAULT_SIDE;
  checkSide(side);
  if (!Number.isInteger(opts.count) || opts.count < 0) throw invalidValue('count', opts.count, 'a non-negative integer');
  const start = opts.start ?? 0;
  const weights = opts.kindWeights ?? KIND_WEIGHTS;
  checkKindWeights(weights);
  const samples: ShapesSample[] = [];
  for (let i = start; i < start + opts.count; i++) {
    const rng = sampleRng('shapes', opts.split, opts.seed, i);
    const spec = randomSpec(rng, opts.split, weights);
    // The drawn sizes are not a request: let the fallback shrink any of them.
    const open: ShapesSpec = { ...spec, objects: spec.objects.map((o) => ({ ...o, size: undefined })) };
    samples.push(buildSample(open, rng, side, i, opts.split, false, spec));
  }
  return samples;
}

/** Does a spec use a held-out color-shape pair? */
export function specIsHeldout(spec: ShapesSpec): boolean {
  return spec.objects.some((o) => isHeldoutPair(o.color, o.shape));
}

/**
 * A sample that shows what a caption (or spec) asks for, at a random layout drawn from `seed`.
 * Sizes not given in the caption are drawn at random. Its split is 'heldout' when the caption uses
 * a held-out pair, else 'test'. Its captions are those of the drawn scene (canonical first).
 */
export function sampleForCaption(caption: string | ShapesSpec, opts: { seed: number; size?: number; index?: number } = { seed: 0 }): ShapesSample {
  const spec = typeof caption === 'string' ? parseCaption(caption) : caption;
  const side = opts.size ?? DEFAULT_SIDE;
  checkSide(side);
  const index = opts.index ?? 0;
  const rng = makeRng(`shapes-caption:${JSON.stringify(spec)}:${opts.seed}:${index}`);
  const sizesFixed = spec.objects.every((o) => o.size !== undefined);
  return buildSample(spec, rng, side, index, specIsHeldout(spec) ? 'heldout' : 'test', sizesFixed);
}

/** Renders given objects (e.g. edited attributes) into a sample; kind 'single'/'count'/'relation' sets the captions. */
export function sampleFromObjects(objects: ShapeObject[], side = DEFAULT_SIDE, relation?: Relation): ShapesSample {
  checkSide(side);
  const kind: SceneKind = relation ? 'relation' : objects.length === 1 ? 'single' : 'count';
  const captions = captionsOf(kind, objects, side, relation);
  const attributes: ShapesAttributes = { kind, objects, counts: countsOf(objects), relations: relationsOf(objects, side) };
  if (relation) attributes.captionRelation = { a: 0, b: 1, relation };
  return { index: 0, split: 'test', width: side, height: side, rgb: renderShapes(objects, side), caption: captions[0], captions, attributes };
}

/** (N, H, W, 3) float32 in [0, 1]. */
export function shapesToTensor(samples: ReadonlyArray<{ rgb: Uint8ClampedArray; width: number; height: number }>): tf.Tensor4D {
  if (samples.length === 0) throw invalidValue('samples', '[]', 'at least one sample');
  const { width, height } = samples[0];
  const data = new Float32Array(samples.length * height * width * 3);
  samples.forEach((s, n) => {
    if (s.width !== width || s.height !== height) throw invalidValue('sample size', `${s.width}x${s.height}`, `${width}x${height} like the first sample`);
    const off = n * height * width * 3;
    for (let k = 0; k < s.rgb.length; k++) data[off + k] = s.rgb[k] / 255;
  });
  return tf.tensor4d(data, [samples.length, height, width, 3]);
}

export type { Shape, Color, Size, Relation, ShapesSplit };
