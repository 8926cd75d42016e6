// GenEval-style scoring, CLIP score / R-precision arithmetic and caption attribute accuracy, on
// hand-made readings whose right answers are written out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { genevalPrompts, GENEVAL_TASKS } from '../../lib/eval/geneval/prompts';
import { genevalScores, promptSatisfied, promptsForCaption } from '../../lib/eval/geneval/score';
import { clipScoreFromEmbeddings, rPrecisionFromEmbeddings } from '../../lib/eval/clipScore';
import { captionAttributeAccuracy, readingMatchesCaption } from '../../lib/eval/shapesEval';
import { generateShapes } from '../../lib/data/shapes/index';
import { isHeldoutPair, Color, Shape } from '../../lib/data/shapes/world';
import { parseCaption } from '../../lib/data/shapes/captions';

const obj = (color: string, shape: string, cx: number, cy: number) => ({ color, shape, cx, cy, size: 'small' as const, score: 1 });

test('prompt set: fixed, six tasks, parseable captions, no held-out pair by default', () => {
  const a = genevalPrompts();
  const b = genevalPrompts();
  assert.deepEqual(a, b);
  for (const t of GENEVAL_TASKS) assert.equal(a.filter((p) => p.task === t).length, 24);
  for (const p of a) {
    const spec = parseCaption(p.prompt); // throws if outside the Shapes language
    assert.equal(spec.objects.length, p.objects.length);
    for (const o of p.objects) assert.ok(!isHeldoutPair(o.color as Color, o.shape as Shape), p.prompt);
  }
  assert.ok(genevalPrompts({ includeHeldout: true, perTask: 60 }).some((p) => p.objects.some((o) => isHeldoutPair(o.color, o.shape))));
});

test('each task checks what GenEval checks', () => {
  const side = 32;
  const single = { task: 'single_object' as const, prompt: 'a red circle', objects: [{ color: 'red' as const, shape: 'circle' as const }] };
  assert.equal(promptSatisfied(single, [obj('blue', 'circle', 10, 10)], side), true); // shape only
  assert.equal(promptSatisfied({ ...single, task: 'colors' }, [obj('blue', 'circle', 10, 10)], side), false);
  const count = { task: 'counting' as const, prompt: 'two red circles', objects: single.objects, count: 2 };
  assert.equal(promptSatisfied(count, [obj('red', 'circle', 5, 5), obj('red', 'circle', 20, 20)], side), true);
  assert.equal(promptSatisfied(count, [obj('red', 'circle', 5, 5), obj('red', 'circle', 20, 20), obj('red', 'circle', 5, 25)], side), false);
  const pos = {
    task: 'position' as const, prompt: 'a red circle to the left of a blue square', relation: 'left of' as const,
    objects: [{ color: 'red' as const, shape: 'circle' as const }, { color: 'blue' as const, shape: 'square' as const }],
  };
  assert.equal(promptSatisfied(pos, [obj('red', 'circle', 6, 16), obj('blue', 'square', 24, 16)], side), true);
  assert.equal(promptSatisfied(pos, [obj('red', 'circle', 24, 16), obj('blue', 'square', 6, 16)], side), false);
  // within the 0.1 x side margin (3.2 px) the relation does not hold
  assert.equal(promptSatisfied(pos, [obj('red', 'circle', 14, 5), obj('blue', 'square', 16, 25)], side), false);
  const bind = { ...pos, task: 'attribute_binding' as const };
  assert.equal(promptSatisfied(bind, [obj('blue', 'circle', 6, 16), obj('red', 'square', 24, 16)], side), false); // colors swapped
  assert.equal(promptSatisfied({ ...pos, task: 'two_objects' }, [obj('blue', 'circle', 6, 16), obj('red', 'square', 24, 16)], side), true);
  // Overall is the mean of the six task accuracies.
  const prompts = [single, { ...single, task: 'colors' as const }, count, pos, bind, { ...pos, task: 'two_objects' as const }];
  const reads = [[obj('red', 'circle', 5, 5)], [obj('red', 'circle', 5, 5)], [obj('red', 'circle', 5, 5)], [], [], []];
  const s = genevalScores(prompts, reads, side);
  assert.equal(s.single_object, 1);
  assert.equal(s.colors, 1);
  assert.equal(s.counting, 0);
  assert.equal(s.overall, 2 / 6);
});

test('captions map to the tasks they exercise', () => {
  assert.deepEqual(promptsForCaption('a red circle').map((p) => p.task), ['single_object', 'colors']);
  assert.deepEqual(promptsForCaption('three blue squares').map((p) => p.task), ['counting']);
  assert.deepEqual(promptsForCaption('a red circle above a blue square').map((p) => p.task), ['position', 'two_objects', 'attribute_binding']);
  assert.deepEqual(promptsForCaption('a red circle above a blue circle').map((p) => p.task), ['position']);
});

test('CLIP score is the mean cosine; R-precision ranks the own caption among 32', () => {
  // 2-D embeddings: image 0 = (1, 0), text 0 = (1, 1) -> cos = 1/sqrt 2; image 1 = (0, 2), text 1 = (0, 1) -> 1.
  close(clipScoreFromEmbeddings(Float32Array.from([1, 0, 0, 2]), Float32Array.from([1, 1, 0, 1]), 2), (1 / Math.SQRT2 + 1) / 2);
  // Orthonormal one-hot embeddings of 40 distinct captions: every image retrieves its own caption.
  const n = 40;
  const eye = new Float32Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  const caps = Array.from({ length: n }, (_, i) => `caption ${i}`);
  assert.equal(rPrecisionFromEmbeddings(eye, eye, caps, n), 1);
  // All texts identical in embedding -> ties -> no image ranks its own caption strictly first.
  const same = new Float32Array(n * n).fill(1);
  assert.equal(rPrecisionFromEmbeddings(eye, same, caps, n), 0);
});

function close(a: number, b: number, tol = 1e-6) {
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
}

test('caption attribute accuracy and reading-vs-caption on real scenes', () => {
  const scenes = generateShapes({ split: 'test', count: 40, seed: 0 });
  const truth = scenes.map((s) => s.attributes);
  // The scenes' own canonical captions are right by construction.
  const own = captionAttributeAccuracy(scenes.map((s) => s.caption), truth);
  assert.equal(own.parsed, 1);
  assert.equal(own.exact, 1);
  // A caption outside the language does not parse; a wrong color fails "objects".
  const bad = captionAttributeAccuracy(['hello world', 'a purple zebra'], truth.slice(0, 2));
  assert.equal(bad.parsed, 0);
  // The exact ground truth, read as a judge would, matches its own caption.
  for (const s of scenes) {
    const read = s.attributes.objects.map((o) => ({ ...o, score: 1 }));
    assert.ok(readingMatchesCaption(s.caption, read, s.width), s.caption);
    assert.equal(readingMatchesCaption(s.caption, read.slice(1), s.width), read.length === 0);
  }
});
