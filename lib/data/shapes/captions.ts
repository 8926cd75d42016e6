// The Shapes caption language: paraphrase templates that describe a scene (at least 5 per image,
// the first being the simplest, canonical form) and a parser from captions back to scene specs.
import { CrossflowError, invalidValue } from '../../errors';
import type { ShapeObject } from './render';
import { COLORS, Color, NUMBER_WORDS, PLURAL, RELATIONS, Relation, SHAPES, SIZES, Shape, Size } from './world';

export const SCENE_KINDS = ['single', 'count', 'relation'] as const;
export type SceneKind = (typeof SCENE_KINDS)[number];

/** What a caption says: one group (`count` copies of a color-shape) or two single objects in a relation. */
export interface ShapesSpec {
  kind: SceneKind;
  objects: Array<{ shape: Shape; color: Color; size?: Size; count: number }>;
  /** For kind 'relation': objects[0] <relation> objects[1]. */
  relation?: Relation;
}

const INVERSE: Record<Relation, Relation> = { 'left of': 'right of', 'right of': 'left of', above: 'below', below: 'above' };
/** How a relation is written in the canonical caption. */
export const RELATION_PHRASE: Record<Relation, string> = {
  'left of': 'to the left of',
  'right of': 'to the right of',
  above: 'above',
  below: 'below',
};
const RELATION_SHORT: Record<Relation, string> = { 'left of': 'left of', 'right of': 'right of', above: 'over', below: 'under' };

function article(nextWord: string): string {
  return /^[aeiou]/.test(nextWord) ? 'an' : 'a';
}

/** "a red circle", "an orange square"; with size: "a small red circle". */
export function nounPhrase(o: { color: Color; shape: Shape; size?: Size }, withSize = false): string {
  const words = withSize && o.size ? [o.size, o.color, o.shape] : [o.color, o.shape];
  return `${article(words[0])} ${words.join(' ')}`;
}

function groupPhrase(n: number, o: { color: Color; shape: Shape; size?: Size }, withSize = false): string {
  if (n === 1) return nounPhrase(o, withSize);
  return [NUMBER_WORDS[n], ...(withSize && o.size ? [o.size] : []), o.color, PLURAL[o.shape]].join(' ');
}

/** Where in the image a point lies, in words: "in the top left", "on the right", "in the center". */
export function regionPhrase(cx: number, cy: number, side: number): string {
  const v = cy < side / 3 ? 'top' : cy >= (2 * side) / 3 ? 'bottom' : 'middle';
  const h = cx < side / 3 ? 'left' : cx >= (2 * side) / 3 ? 'right' : 'center';
  if (v === 'middle' && h === 'center') return 'in the center';
  if (v === 'middle') return `on the ${h}`;
  if (h === 'center') return `at the ${v}`;
  return `in the ${v} ${h}`;
}

/**
 * All reference captions of a scene; [0] is the canonical caption (`a red circle`, `two blue squares`,
 * `a red circle to the left of a blue square`, `a green triangle above a yellow square`).
 */
export function captionsOf(kind: SceneKind, objects: readonly ShapeObject[], side: number, relation?: Relation): string[] {
  const o = objects[0];
  if (kind === 'single') {
    const np = nounPhrase(o);
    return [
      np,
      nounPhrase(o, true),
      `one ${o.color} ${o.shape}`,
      `there is ${np}`,
      `a picture of ${np}`,
      `${np} ${regionPhrase(o.cx, o.cy, side)}`,
      `a single ${o.size} ${o.color} ${o.shape}`,
    ];
  }
  if (kind === 'count') {
    const n = objects.length;
    const g = groupPhrase(n, o);
    return [
      g,
      groupPhrase(n, o, true),
      `there are ${g}`,
      `a picture of ${g}`,
      `${NUMBER_WORDS[n]} ${PLURAL[o.shape]}, ${n === 2 ? 'both' : 'all'} ${o.color}`,
      `exactly ${g}`,
      n === 2 ? `a pair of ${o.color} ${PLURAL[o.shape]}` : `a group of ${g}`,
    ];
  }
  if (!relation) throw new CrossflowError('a relation scene needs its relation');
  const [a, b] = objects;
  const A = nounPhrase(a);
  const B = nounPhrase(b);
  const horizontal = relation === 'left of' || relation === 'right of';
  const [first, second] = relation === 'left of' || relation === 'above' ? [A, B] : [B, A];
  return [
    `${A} ${RELATION_PHRASE[relation]} ${B}`,
    `${B} ${RELATION_PHRASE[INVERSE[relation]]} ${A}`,
    `${A} ${RELATION_SHORT[relation]} ${B}`,
    `there is ${A} ${RELATION_PHRASE[relation]} ${B}`,
    `${nounPhrase(a, true)} ${RELATION_PHRASE[relation]} ${nounPhrase(b, true)}`,
    horizontal ? `${first} on the left and ${second} on the right` : `${first} at the top and ${second} at the bottom`,
    `${B} ${RELATION_SHORT[INVERSE[relation]]} ${A}`,
  ];
}

// ---- parsing -------------------------------------------------------------------------------

const PREFIXES = [['there', 'is'], ['there', 'are'], ['a', 'picture', 'of'], ['an', 'image', 'of'], ['exactly']];
const RELATION_WORDS: Array<[string[], Relation]> = [
  [['to', 'the', 'left', 'of'], 'left of'],
  [['to', 'the', 'right', 'of'], 'right of'],
  [['left', 'of'], 'left of'],
  [['right', 'of'], 'right of'],
  [['above'], 'above'],
  [['below'], 'below'],
  [['over'], 'above'],
  [['under'], 'below'],
];

export const CAPTION_GRAMMAR =
  "'[a|an|one] [small|large] <color> <shape>', '<two|three> [small|large] <color> <shapes>', or " +
  "'<object> <to the left of|to the right of|left of|right of|above|below|over|under> <object>'; " +
  `colors: ${COLORS.join(', ')}; shapes: ${SHAPES.join(', ')}`;

function startsWith(words: string[], at: number, phrase: string[]): boolean {
  return phrase.every((w, k) => words[at + k] === w);
}

/** Parses a caption of the Shapes language into what it asks for; throws with the grammar otherwise. */
export function parseCaption(text: string): ShapesSpec {
  const words = text.toLowerCase().replace(/[,.!]/g, ' ').trim().split(/\s+/).filter(Boolean);
  const fail = (why: string): never => {
    throw new CrossflowError(`cannot parse caption ${JSON.stringify(text)}: ${why}; expected ${CAPTION_GRAMMAR}`);
  };
  let i = 0;
  for (const p of PREFIXES)
    if (startsWith(words, i, p)) {
      i += p.length;
      break;
    }
  const parseGroup = (): { shape: Shape; color: Color; size?: Size; count: number } => {
    let count = 1;
    const w = words[i];
    if (w === 'a' || w === 'an' || w === 'one' || w === 'the') i++;
    else if (w === 'two' || w === 'three') {
      count = w === 'two' ? 2 : 3;
      i++;
    }
    if (words[i] === 'single') i++;
    let size: Size | undefined;
    if ((SIZES as readonly string[]).includes(words[i])) size = words[i++] as Size;
    const color = words[i++];
    if (!(COLORS as readonly string[]).includes(color)) fail(`expected a color at word ${i}, got ${JSON.stringify(color ?? '')}`);
    const noun = words[i++];
    const shape = count === 1 ? SHAPES.find((s) => s === noun) : SHAPES.find((s) => PLURAL[s] === noun);
    if (!shape) fail(`expected ${count === 1 ? 'a shape' : 'a plural shape'} at word ${i}, got ${JSON.stringify(noun ?? '')}`);
    return { shape: shape as Shape, color: color as Color, size, count };
  };
  const first = parseGroup();
  if (i === words.length) return { kind: first.count === 1 ? 'single' : 'count', objects: [first] };
  const rel = RELATION_WORDS.find(([phrase]) => startsWith(words, i, phrase));
  if (!rel) return fail(`unexpected ${JSON.stringify(words.slice(i).join(' '))}`);
  i += rel[0].length;
  const second = parseGroup();
  if (i !== words.length) fail(`unexpected ${JSON.stringify(words.slice(i).join(' '))}`);
  if (first.count !== 1 || second.count !== 1) fail('relations are between single objects');
  if (first.color === second.color && first.shape === second.shape) fail('the two objects of a relation must differ in color or shape');
  return { kind: 'relation', objects: [first, second], relation: rel[1] };
}

/** The canonical caption of a spec (sizes included only where the spec fixes them). */
export function specToCaption(spec: ShapesSpec): string {
  const [a, b] = spec.objects;
  if (spec.kind === 'relation') {
    if (!spec.relation || !b) throw invalidValue('spec.relation', spec.relation, RELATIONS.join(', '));
    return `${nounPhrase(a, true)} ${RELATION_PHRASE[spec.relation]} ${nounPhrase(b, true)}`;
  }
  return groupPhrase(a.count, a, true);
}

/** Every word the caption templates can produce (for the tokenizer's vocabulary). */
export function shapesCaptionWords(): string[] {
  const words = new Set<string>();
  const add = (s: string) => s.replace(/,/g, ' ').split(/\s+/).filter(Boolean).forEach((w) => words.add(w));
  for (const s of SHAPES) add(`${s} ${PLURAL[s]}`);
  for (const c of COLORS) add(c);
  for (const z of SIZES) add(z);
  for (const n of NUMBER_WORDS) add(n);
  for (const r of RELATIONS) add(`${RELATION_PHRASE[r]} ${RELATION_SHORT[r]}`);
  add('a an one single there is are picture of both all exactly pair group the on and at left right center top bottom middle in');
  return [...words].sort();
}
