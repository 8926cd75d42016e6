import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { loadTextEncoder, TEXT_ENCODERS } from '../../lib/text/registry';
import { loadLmEncoder, trainLm, LM_DEFAULTS } from '../../lib/text/lm';
import { readWord2VecCache } from '../../lib/text/word2vec';
import { loadClip, clipRetrieval } from '../../lib/text/clip';
import { sampleForCaption, shapesToTensor } from '../../lib/data/shapes/index';
import { CrossflowError } from '../../lib/errors';
import { repoPath } from '../../lib/paths';

const CAPTIONS = ['a red circle', 'a green triangle above a yellow square', 'a handwritten seven'];

test('all four encoders: (B, n, d) tokens, 0/1 mask, zeros at padding, deterministic, no tensor leaks', async () => {
  await initBackend();
  for (const name of TEXT_ENCODERS) {
    const enc = await loadTextEncoder(name);
    assert.equal(enc.name, name);
    assert.ok(enc.paramCount > 0);
    const before = tf.memory().numTensors;
    const a = enc.encode(CAPTIONS);
    assert.deepEqual(a.tokens.shape, [3, enc.maxTokens, enc.dim]);
    assert.deepEqual(a.mask.shape, [3, enc.maxTokens]);
    const mask = a.mask.arraySync();
    // <bos> + words + <eos>
    assert.deepEqual(mask.map((row) => row.reduce((x, y) => x + y, 0)), [5, 9, 5]);
    const tokens = a.tokens.arraySync();
    for (let b = 0; b < 3; b++)
      for (let t = 0; t < enc.maxTokens; t++) {
        const norm = Math.hypot(...tokens[b][t]);
        if (mask[b][t] === 0) assert.equal(norm, 0);
        else assert.ok(norm > 0.3 * Math.sqrt(enc.dim) && norm < 3 * Math.sqrt(enc.dim), `${name}: token norm ${norm}`);
      }
    const b = enc.encode(CAPTIONS);
    assert.deepEqual(b.tokens.arraySync(), tokens);
    // The same word in two captions: identical for the context-free encoders, different for the contextual ones.
    const red0 = tokens[0][2];
    const other = enc.encode(['a red square']).tokens.arraySync()[0][2];
    const same = red0.every((v, k) => Math.abs(v - other[k]) < 1e-6);
    assert.equal(same, name === 'random' || name === 'word2vec', name);
    tf.dispose([a.tokens, a.mask, b.tokens, b.mask]);
    assert.ok(tf.memory().numTensors <= before + 2, `${name} leaked tensors`);
    assert.throws(() => enc.encode(['a magenta circle']), CrossflowError);
    enc.dispose();
  }
  await assert.rejects(() => loadTextEncoder('t5'), /allowed: random, word2vec, lm, clip/);
});

test('word2vec cache: colors are closer to colors than to shapes', () => {
  const cache = readWord2VecCache();
  const vec = (w: string) => cache.vectors[cache.vocabulary.indexOf(w)];
  const cos = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k], 0) / (Math.hypot(...a) * Math.hypot(...b));
  const colors = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
  const shapes = ['circle', 'square', 'triangle', 'diamond'];
  let within = 0, across = 0;
  for (const c of colors) {
    within += colors.filter((d) => d !== c).reduce((s, d) => s + cos(vec(c), vec(d)), 0) / 5;
    across += shapes.reduce((s, d) => s + cos(vec(c), vec(d)), 0) / 4;
  }
  assert.ok(within / 6 > across / 6 + 0.2, `${within / 6} vs ${across / 6}`);
  assert.equal(cache.vectors[0].length, 100);
});

test('lm: fills masked words with the right kind of word', async () => {
  await initBackend();
  const lm = loadLmEncoder();
  const shapesPlural = ['circles', 'squares', 'triangles', 'diamonds'];
  assert.ok(shapesPlural.includes(lm.fillMask('two blue <mask>')[0].word));
  assert.ok(['left', 'right'].includes(lm.fillMask('a red circle to the <mask> of a blue square')[0].word));
  assert.equal(lm.fillMask('a handwritten <mask>').every((x) => x.p >= 0), true);
  assert.ok(lm.provenance.trainingSeconds > 0 && lm.provenance.command.includes('train-encoder lm'));
  lm.dispose();
});

test('lm training steps: loss goes down and no tensors leak', async () => {
  await initBackend();
  const cfg = { ...LM_DEFAULTS, dim: 16, heads: 2, ffn: 32, steps: 40, batchSize: 16, corpusSamples: 40, lr: 1e-2 };
  const before = tf.memory().numTensors;
  const r = trainLm(1, cfg);
  const first = r.lossCurve[0][1];
  const last = r.lossCurve[r.lossCurve.length - 1][1];
  assert.ok(last < first, `${first} -> ${last}`);
  Object.values(r.weights).forEach((t) => t.dispose());
  assert.equal(tf.memory().numTensors, before);
});

test('clip: matches images to their captions far above chance; image tower accepts 64x64', async () => {
  await initBackend();
  const clip = loadClip();
  const r = clipRetrieval(clip, 'test', 64, 0);
  assert.ok(r.imageToText > 0.2, JSON.stringify(r)); // chance is about 1/50
  const img = shapesToTensor([sampleForCaption('a red circle', { seed: 1, size: 64 })]);
  const sim = clip.similarity(img, ['a red circle', 'a blue square', 'two green triangles']).arraySync()[0];
  assert.ok(sim[0] > sim[1] && sim[0] > sim[2], JSON.stringify(sim));
  const e = clip.embedText(['a red circle']);
  assert.ok(Math.abs(tf.norm(e).dataSync()[0] - 1) < 1e-4);
  tf.dispose([img, e]);
  assert.ok(clip.paramCount.image > 0 && clip.paramCount.text > 0);
  clip.dispose();
});

test('neighbours: clip groups the paraphrases of one image; every encoder finds "a red circle" near other circles', async () => {
  await initBackend();
  const { captionNeighbours, paraphraseSeparation } = await import('../../lib/text/neighbours');
  const { generateShapes } = await import('../../lib/data/shapes/index');
  const test_ = generateShapes({ split: 'test', count: 30, seed: 0 });
  const clip = await loadTextEncoder('clip');
  const sep = paraphraseSeparation(clip, test_.map((s) => s.captions));
  assert.ok(sep.within > sep.across + 0.3, JSON.stringify(sep));
  clip.dispose();
  const pool = ['a blue circle', 'two green triangles', 'a yellow square below a purple diamond', 'three orange squares'];
  for (const name of ['word2vec', 'lm', 'clip']) {
    const e = await loadTextEncoder(name);
    assert.equal(captionNeighbours(e, ['a red circle'], pool, 1)[0][0].caption, 'a blue circle', name);
    e.dispose();
  }
});

test('clip hard negatives: differ from the caption, stay in the caption language, never name a held-out pair', async () => {
  const { hardNegative } = await import('../../lib/text/clip');
  const { generateShapes, parseCaption, HELDOUT_PAIRS } = await import('../../lib/data/shapes/index');
  const { makeRng } = await import('../../lib/data/rng');
  const rng = makeRng('negatives');
  let swapped = 0;
  for (const s of generateShapes({ split: 'train', count: 300, seed: 4 })) {
    const neg = hardNegative(s, rng);
    if (neg === null) continue;
    assert.notEqual(neg, s.caption);
    const spec = parseCaption(neg);
    for (const o of spec.objects) assert.ok(!HELDOUT_PAIRS.some(([c, sh]) => c === o.color && sh === o.shape), neg);
    // A swapped relation uses exactly the same words as the caption.
    if (neg.split(' ').sort().join(' ') === s.caption.split(' ').sort().join(' ')) swapped++;
  }
  assert.ok(swapped > 20, String(swapped));
});

test('imports point one way: registry -> the four encoders -> encoder (the shared interface); no inline require in lib/text', () => {
  const dir = repoPath('lib', 'text');
  const importsOf = (file: string): string[] =>
    [...fs.readFileSync(path.join(dir, `${file}.ts`), 'utf8').matchAll(/(?:from|import|require)\s*\(?\s*['"]\.\/([^'"]+)['"]/g)].map((m) => m[1]);
  const encoders = ['random', 'word2vec', 'lm', 'clip'];
  assert.deepEqual(importsOf('registry').filter((m) => encoders.includes(m)).sort(), [...encoders].sort(), 'the registry imports every encoder');
  const shared = importsOf('encoder');
  assert.deepEqual(shared.filter((m) => [...encoders, 'registry'].includes(m)), [], `encoder.ts imports ${shared.join(', ')}`);
  for (const e of encoders) assert.ok(!importsOf(e).includes('registry'), `${e} does not import the registry`);
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.ts')))
    assert.doesNotMatch(fs.readFileSync(path.join(dir, f), 'utf8'), /\brequire\(/, `lib/text/${f} has no inline require`);
});
