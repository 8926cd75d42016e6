// Places objects in the image so that none overlaps another and relations stated in a caption
// hold clearly, and reads back every relation that holds between placed objects.
import { CrossflowError } from '../../errors';
import type { Rng } from '../rng';
import type { ShapeObject } from './render';
import { Relation, SHAPE_EXTENT, SIZE_RADIUS_FRACTION, Shape, Color, Size } from './world';

export interface RelationFact {
  a: number;
  b: number;
  relation: Relation;
}

/** Two centers must differ by at least this fraction of the image side on an axis for a relation to count. */
export const RELATION_MIN_SEPARATION = 0.2;
/** A relation named in a caption is stronger: this separation on its axis, and at most half that on the other axis. */
export const CAPTION_RELATION_SEPARATION = 0.28;

export function radiusOf(size: Size, side: number): number {
  return SIZE_RADIUS_FRACTION[size] * side;
}

export function extentOf(o: { shape: Shape; radius: number }): number {
  return o.radius * SHAPE_EXTENT[o.shape];
}

/** Centers sit on a quarter-pixel grid: exact numbers in JSON, identical rendering everywhere. */
function snap(v: number): number {
  return Math.round(v * 4) / 4;
}

function gapOf(side: number): number {
  return Math.max(1, 0.04 * side);
}

function randomCenter(rng: Rng, extent: number, side: number): [number, number] {
  const lo = extent + 0.5;
  const hi = side - extent - 0.5;
  return [snap(rng.uniform(lo, hi)), snap(rng.uniform(lo, hi))];
}

function overlaps(a: ShapeObject, b: ShapeObject, side: number): boolean {
  return Math.hypot(a.cx - b.cx, a.cy - b.cy) < extentOf(a) + extentOf(b) + gapOf(side);
}

/** Does `relation` hold from a to b with the given minimum separation (fraction of side)? */
export function relationHolds(a: ShapeObject, b: ShapeObject, relation: Relation, side: number, separation = RELATION_MIN_SEPARATION): boolean {
  const min = separation * side;
  switch (relation) {
    case 'left of':
      return b.cx - a.cx >= min;
    case 'right of':
      return a.cx - b.cx >= min;
    case 'above':
      return b.cy - a.cy >= min;
    case 'below':
      return a.cy - b.cy >= min;
  }
}

/** A caption's relation: clear on its axis, and the other axis differs by at most half as much. */
export function captionRelationHolds(a: ShapeObject, b: ShapeObject, relation: Relation, side: number): boolean {
  if (!relationHolds(a, b, relation, side, CAPTION_RELATION_SEPARATION)) return false;
  const horizontal = relation === 'left of' || relation === 'right of';
  const main = horizontal ? Math.abs(a.cx - b.cx) : Math.abs(a.cy - b.cy);
  const other = horizontal ? Math.abs(a.cy - b.cy) : Math.abs(a.cx - b.cx);
  return other <= 0.5 * main;
}

/** Every relation that holds between ordered pairs of distinct objects (both directions are listed). */
export function relationsOf(objects: readonly ShapeObject[], side: number): RelationFact[] {
  const facts: RelationFact[] = [];
  const all: Relation[] = ['left of', 'right of', 'above', 'below'];
  for (let a = 0; a < objects.length; a++)
    for (let b = 0; b < objects.length; b++) {
      if (a === b) continue;
      for (const relation of all) if (relationHolds(objects[a], objects[b], relation, side)) facts.push({ a, b, relation });
    }
  return facts;
}

export interface ObjectRequest {
  shape: Shape;
  color: Color;
  size: Size;
}

/**
 * Places the requested objects without overlap by rejection sampling. With `relation`, exactly two
 * objects are placed and object 0 stands in that relation to object 1 (caption strength).
 * Returns null when no placement was found in `tries` attempts.
 */
export function placeObjects(rng: Rng, requests: readonly ObjectRequest[], side: number, relation?: Relation, tries = 4000): ShapeObject[] | null {
  for (let t = 0; t < tries; t++) {
    const placed: ShapeObject[] = [];
    let ok = true;
    for (const req of requests) {
      const radius = radiusOf(req.size, side);
      const [cx, cy] = randomCenter(rng, radius * SHAPE_EXTENT[req.shape], side);
      const o: ShapeObject = { shape: req.shape, color: req.color, size: req.size, cx, cy, radius };
      if (placed.some((p) => overlaps(p, o, side))) {
        ok = false;
        break;
      }
      placed.push(o);
    }
    if (!ok) continue;
    if (relation && !captionRelationHolds(placed[0], placed[1], relation, side)) continue;
    return placed;
  }
  return null;
}

export function placeOrThrow(rng: Rng, requests: readonly ObjectRequest[], side: number, relation?: Relation): ShapeObject[] {
  const placed = placeObjects(rng, requests, side, relation);
  if (!placed)
    throw new CrossflowError(
      `cannot place ${requests.map((r) => `${r.size} ${r.color} ${r.shape}`).join(', ')}${relation ? ` (${relation})` : ''} without overlap in a ${side}x${side} image`,
    );
  return placed;
}
