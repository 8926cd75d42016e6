// Scores what the judge read in a generated image against a GenEval-style prompt; overall = the
// mean of the six task accuracies (as GenEval reports it).
import { parseCaption } from '../../data/shapes/captions';
import type { Relation } from '../../data/shapes/world';
import { GENEVAL_TASKS, GenevalPrompt, GenevalTask } from './prompts';

export interface ReadObject {
  shape: string;
  color: string;
  cx: number;
  cy: number;
}

/** Relative position with a margin of `margin` x side between the centers (GenEval uses a similar slack). */
export function positionHolds(a: ReadObject, b: ReadObject, relation: Relation, side: number, margin = 0.1): boolean {
  const m = margin * side;
  switch (relation) {
    case 'left of': return b.cx - a.cx > m;
    case 'right of': return a.cx - b.cx > m;
    case 'above': return b.cy - a.cy > m;
    case 'below': return a.cy - b.cy > m;
  }
}

/** Does the image (as read by the judge) satisfy the prompt? */
export function promptSatisfied(p: GenevalPrompt, read: ReadObject[], side: number): boolean {
  const withShape = (s: string) => read.filter((o) => o.shape === s);
  const bound = (o: { color: string; shape: string }) => read.filter((r) => r.shape === o.shape && r.color === o.color);
  switch (p.task) {
    case 'single_object':
      return withShape(p.objects[0].shape).length >= 1;
    case 'colors':
      return bound(p.objects[0]).length >= 1;
    case 'counting':
      return withShape(p.objects[0].shape).length === p.count;
    case 'two_objects':
      return withShape(p.objects[0].shape).length >= 1 && withShape(p.objects[1].shape).length >= 1;
    case 'attribute_binding':
      return bound(p.objects[0]).length >= 1 && bound(p.objects[1]).length >= 1;
    case 'position': {
      const as = bound(p.objects[0]);
      const bs = bound(p.objects[1]);
      return as.some((a) => bs.some((b) => positionHolds(a, b, p.relation as Relation, side)));
    }
  }
}

export type GenevalScores = Record<GenevalTask, number> & { overall: number; counts: Record<string, number> };

/** Task accuracies and their mean. Tasks with no prompt are NaN and left out of the mean. */
export function genevalScores(prompts: GenevalPrompt[], reads: ReadObject[][], side: number): GenevalScores {
  const right: Record<string, number> = {};
  const total: Record<string, number> = {};
  prompts.forEach((p, i) => {
    total[p.task] = (total[p.task] ?? 0) + 1;
    right[p.task] = (right[p.task] ?? 0) + (promptSatisfied(p, reads[i], side) ? 1 : 0);
  });
  const out = { counts: total } as GenevalScores;
  const present: number[] = [];
  for (const t of GENEVAL_TASKS) {
    out[t] = total[t] ? right[t] / total[t] : NaN;
    if (total[t]) present.push(out[t]);
  }
  out.overall = present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN;
  return out;
}

/**
 * The GenEval tasks a free caption of the Shapes language exercises (for `eval --images`, where
 * each image comes with its own caption): single -> single_object + colors; count -> counting;
 * relation -> two_objects (if the shapes differ), position, attribute_binding (if shapes and colors differ).
 */
export function promptsForCaption(caption: string): GenevalPrompt[] {
  const spec = parseCaption(caption);
  const objs = spec.objects.map((o) => ({ color: o.color, shape: o.shape }));
  if (spec.kind === 'single') {
    return [
      { task: 'single_object', prompt: caption, objects: objs },
      { task: 'colors', prompt: caption, objects: objs },
    ];
  }
  if (spec.kind === 'count') return [{ task: 'counting', prompt: caption, objects: objs, count: spec.objects[0].count }];
  const out: GenevalPrompt[] = [{ task: 'position', prompt: caption, objects: objs, relation: spec.relation }];
  if (objs[0].shape !== objs[1].shape) {
    out.push({ task: 'two_objects', prompt: caption, objects: objs, relation: spec.relation });
    if (objs[0].color !== objs[1].color) out.push({ task: 'attribute_binding', prompt: caption, objects: objs, relation: spec.relation });
  }
  return out;
}
