// A fixed GenEval-style prompt set for Shapes (after Ghosh et al. 2023, GenEval): six task
// families, each a list of prompts in the Shapes caption language, scored from what the judge
// reads in the generated image. Held-out color-shape pairs are excluded unless asked for, so the
// set measures in-distribution composition; `includeHeldout` adds prompts that use them.
//   single_object     "a <color> <shape>"                 -> an object of that shape is present
//   two_objects       "<A> <relation> <B>" (A, B differ in shape) -> both shapes present
//   counting          "<two|three> <color> <shapes>"      -> exactly that many of that shape
//   colors            "a <color> <shape>"                 -> an object of that shape has that color
//   position          "<A> <relation> <B>"                -> A and B present and A <relation> B
//   attribute_binding "<A> <relation> <B>" (A, B differ in shape and color) -> both color-shape bindings present
import { COLORS, SHAPES, RELATIONS, PLURAL, isHeldoutPair, Color, Shape, Relation } from '../../data/shapes/world';
import { makeRng } from '../../data/rng';

export const GENEVAL_TASKS = ['single_object', 'two_objects', 'counting', 'colors', 'position', 'attribute_binding'] as const;
export type GenevalTask = (typeof GENEVAL_TASKS)[number];

export interface GenevalObject {
  color: Color;
  shape: Shape;
}

export interface GenevalPrompt {
  task: GenevalTask;
  prompt: string;
  objects: GenevalObject[];
  count?: number;
  relation?: Relation;
}

const article = (c: string) => (/^[aeiou]/.test(c) ? 'an' : 'a');
const np = (o: GenevalObject) => `${article(o.color)} ${o.color} ${o.shape}`;
const RELATION_TEXT: Record<Relation, string> = { 'left of': 'to the left of', 'right of': 'to the right of', above: 'above', below: 'below' };

/** The prompt set: deterministic (seeded) and identical on every machine. */
export function genevalPrompts(opts: { perTask?: number; includeHeldout?: boolean; seed?: number } = {}): GenevalPrompt[] {
  const perTask = opts.perTask ?? 24;
  const rng = makeRng(`geneval-shapes:${opts.seed ?? 0}`);
  const pairs: GenevalObject[] = [];
  for (const color of COLORS) for (const shape of SHAPES) if (opts.includeHeldout || !isHeldoutPair(color, shape)) pairs.push({ color, shape });
  const out: GenevalPrompt[] = [];
  // Single objects and colors: cycle through every allowed pair in a seeded order.
  const shuffled = [...pairs];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  for (let k = 0; k < perTask; k++) {
    const o = shuffled[k % shuffled.length];
    out.push({ task: 'single_object', prompt: np(o), objects: [o] });
  }
  for (let k = 0; k < perTask; k++) {
    const o = shuffled[(k + 7) % shuffled.length];
    out.push({ task: 'colors', prompt: np(o), objects: [o] });
  }
  for (let k = 0; k < perTask; k++) {
    const o = rng.pick(pairs);
    const count = 2 + (k % 2);
    out.push({ task: 'counting', prompt: `${count === 2 ? 'two' : 'three'} ${o.color} ${PLURAL[o.shape]}`, objects: [o], count });
  }
  const relationPrompt = (task: GenevalTask, distinctColor: boolean): GenevalPrompt => {
    for (;;) {
      const a = rng.pick(pairs);
      const b = rng.pick(pairs);
      if (a.shape === b.shape || (distinctColor && a.color === b.color)) continue;
      const relation = rng.pick(RELATIONS);
      return { task, prompt: `${np(a)} ${RELATION_TEXT[relation]} ${np(b)}`, objects: [a, b], relation };
    }
  };
  for (let k = 0; k < perTask; k++) out.push(relationPrompt('two_objects', false));
  for (let k = 0; k < perTask; k++) out.push(relationPrompt('position', false));
  for (let k = 0; k < perTask; k++) out.push(relationPrompt('attribute_binding', true));
  return out;
}
