// The Shapes world: its vocabulary of shapes, colors and sizes, their pixel geometry, and the
// color-shape pairs held out of training to measure compositional generalisation.

export const SHAPES = ['circle', 'square', 'triangle', 'diamond'] as const;
export const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export const SIZES = ['small', 'large'] as const;
export const RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
export const SPLITS = ['train', 'val', 'test', 'heldout'] as const;

export type Shape = (typeof SHAPES)[number];
export type Color = (typeof COLORS)[number];
export type Size = (typeof SIZES)[number];
export type Relation = (typeof RELATIONS)[number];
export type ShapesSplit = (typeof SPLITS)[number];

/** Saturated, well separated fill colors (sRGB 0..255) on a black background. */
export const COLOR_RGB: Record<Color, [number, number, number]> = {
  red: [230, 25, 25],
  green: [20, 190, 40],
  blue: [30, 80, 240],
  yellow: [245, 225, 20],
  purple: [160, 50, 210],
  orange: [250, 135, 0],
};
export const BACKGROUND_RGB: [number, number, number] = [0, 0, 0];

/** Nominal radius of each size as a fraction of the image side (3.5 px and 5.8 px at 32x32). */
export const SIZE_RADIUS_FRACTION: Record<Size, number> = { small: 0.11, large: 0.18 };

/**
 * How far each shape reaches from its center, in units of the nominal radius: the bounding
 * circle used to keep objects apart (so no object ever occludes another).
 *   circle: radius r; square: half-side 0.8r (corner at 1.13r); triangle: equilateral, circumradius
 *   1.15r around its centroid; diamond: a square on its corner, half-diagonal 1.1r.
 */
export const SHAPE_EXTENT: Record<Shape, number> = { circle: 1, square: 0.8 * Math.SQRT2, triangle: 1.15, diamond: 1.1 };

/**
 * Held-out compositions: these color-shape pairs never appear (in images or captions) in the
 * train, val and test splits; every `heldout` sample contains at least one of them. Each shape
 * loses one color and every color and shape is still seen in training.
 */
export const HELDOUT_PAIRS: ReadonlyArray<readonly [Color, Shape]> = [
  ['purple', 'circle'],
  ['green', 'square'],
  ['orange', 'triangle'],
  ['yellow', 'diamond'],
];

export function isHeldoutPair(color: Color, shape: Shape): boolean {
  return HELDOUT_PAIRS.some(([c, s]) => c === color && s === shape);
}

/** All color-shape pairs, split into those seen in training and those held out. */
export function colorShapePairs(which: 'seen' | 'heldout' | 'all'): Array<[Color, Shape]> {
  const pairs: Array<[Color, Shape]> = [];
  for (const color of COLORS)
    for (const shape of SHAPES) {
      const held = isHeldoutPair(color, shape);
      if (which === 'all' || (which === 'heldout') === held) pairs.push([color, shape]);
    }
  return pairs;
}

export const PLURAL: Record<Shape, string> = { circle: 'circles', square: 'squares', triangle: 'triangles', diamond: 'diamonds' };
export const NUMBER_WORDS = ['zero', 'one', 'two', 'three'] as const;
/** Counting samples show up to this many objects of one kind. */
export const MAX_COUNT = 3;
