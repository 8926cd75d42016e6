// Latent arithmetic and interpolation: the expression parser (precedence, weights, errors with
// positions), vocabulary checks, standardisation and slerp against hand computations, and paths,
// grids and the command line on a tiny trained run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { generateShapes } from '../../lib/data/shapes/index';
import { parseExpression } from '../../lib/latent/expression';
import { bilinearGrid, combineLatents, encodeTexts, fractions, interpolationPath, lerp, slerp, standardise } from '../../lib/latent/latents';
import { arithmeticSet, unevenness } from '../../lib/latent/measure';
import { checkPromptWords } from '../../lib/latent/vocabulary';
import { presetConfig } from '../../lib/models/presets';
import { loadRandomEncoder } from '../../lib/text/random';
import { captionTokenizer } from '../../lib/text/tokenizer';
import { applyOverrides } from '../../lib/config/overrides';
import { normals } from '../../lib/data/rng';
import { loadRun } from '../../lib/sampling/generate';
import { train } from '../../lib/train/trainer';

const ROOT = path.join(__dirname, '..', '..');
const entries = (m: Map<string, number>) => [...m].map(([k, v]) => [k, Math.round(v * 1e12) / 1e12]);

test('expressions parse to linear combinations with the usual precedence', () => {
  assert.deepEqual(entries(parseExpression('"a red circle" - "a red square" + "a blue square"')), [['a red circle', 1], ['a red square', -1], ['a blue square', 1]]);
  assert.deepEqual(entries(parseExpression('"a" - 0.5 * "b" + "c" / 2')), [['a', 1], ['b', -0.5], ['c', 0.5]]);
  assert.deepEqual(entries(parseExpression('2 * ("a" - ("b" - "c"))')), [['a', 2], ['b', -2], ['c', 2]]);
  assert.deepEqual(entries(parseExpression('-"a" + 3 * 2 * "a"')), [['a', 5]], 'a prompt named twice adds up; numbers multiply');
  assert.deepEqual(entries(parseExpression("'a' * 1e-1 + (1 + 1) * 'b'")), [['a', 0.1], ['b', 2]]);
});

test('bad expressions are errors that say what and where', () => {
  const where = (expr: string, re: RegExp) => assert.throws(() => parseExpression(expr), re, expr);
  where('("a" + "b"', /unbalanced parentheses: "\(" at position 1 is never closed/);
  where('"a" + "b")', /unbalanced parentheses: "\)" with no "\(" before it at position 10/);
  where('"a" * "b"', /product of two prompts \(not a linear combination\) at position 5/);
  where('"a" + 2', /a number added to a prompt .* at position 5/);
  where('"a" / "b"', /division by a prompt/);
  where('"a" "b"', /an operator .* is missing before this at position 5/);
  where('"a red circle', /unterminated prompt/);
  where('2 * 3', /no prompt/);
  where('"a" + ', /the expression ends/);
  where('red circle', /unexpected "r" \(prompts are quoted/);
  // The message shows the expression with a caret under the position.
  assert.throws(() => parseExpression('"a" + "b")'), (e: Error) => e.message.includes('\n  "a" + "b")\n           ^'));
});

test('every prompt word must be in the vocabulary; an unknown one lists the nearest words', () => {
  const tok = captionTokenizer();
  assert.doesNotThrow(() => checkPromptWords('a red circle', tok));
  assert.throws(() => checkPromptWords('a red cirle', tok), /unknown word "cirle" in prompt "a red cirle"; did you mean circle\?.*circle/);
  assert.throws(() => checkPromptWords('a redd square', tok), /did you mean red\?/);
});

test('standardise: each item by its own scalar mean and std, by hand', async () => {
  await initBackend();
  const x = [1, 2, 3, 6, -1, -1, -1, 3];
  const z = tf.tensor4d(x, [2, 1, 2, 2]);
  const got = standardise(z).arraySync() as number[][][][];
  for (let b = 0; b < 2; b++) {
    const v = x.slice(4 * b, 4 * b + 4);
    const m = v.reduce((s, y) => s + y, 0) / 4;
    const sd = Math.sqrt(v.reduce((s, y) => s + (y - m) ** 2, 0) / 4);
    got[b].flat(2).forEach((g, i) => assert.ok(Math.abs(g - (v[i] - m) / sd) < 1e-5, `${g} vs ${(v[i] - m) / sd}`));
  }
});

test('slerp against a hand computation; lerp and slerp end at their endpoints', async () => {
  await initBackend();
  const a = tf.tensor2d([[1, 0]]);
  const b = tf.tensor2d([[0, 1]]);
  const s = slerp(a, b, [0, 0.5, 1 / 3, 1]).arraySync() as number[][];
  const want = [[1, 0], [Math.SQRT1_2, Math.SQRT1_2], [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)], [0, 1]];
  s.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-6, `slerp[${i}][${j}] ${v} vs ${want[i][j]}`)));
  // Unequal norms: angle 90 degrees, |a| = 2, |b| = 1: sin-weights applied to the vectors themselves.
  const s2 = slerp(tf.tensor2d([[2, 0]]), b, [0.5]).arraySync() as number[][];
  assert.ok(Math.abs(s2[0][0] - 2 * Math.SQRT1_2) < 1e-6 && Math.abs(s2[0][1] - Math.SQRT1_2) < 1e-6);
  const l = lerp(a, b, fractions(2)).arraySync() as number[][];
  assert.deepEqual(l.map((r) => r.map((v) => Math.round(v * 1e6) / 1e6)), [[1, 0], [0.666667, 0.333333], [0.333333, 0.666667], [0, 1]]);
});

test('the systematic arithmetic set: 360 distinct parallelograms; a colour swap of one prompt is a shape swap of another', () => {
  const set = arithmeticSet();
  assert.equal(set.length, 360);
  assert.equal(new Set(set.map((s) => [...s.combo].map(([p, c]) => `${c}${p}`).sort().join('|'))).size, 360, 'no expression twice');
  const it = set.find((s) => s.expression === '"a red circle" - "a red square" + "a blue square"')!;
  assert.deepEqual(it.target, { color: 'blue', shape: 'circle' });
  // The shape swap of "a blue square" (square -> circle via red): the same combination, the same target.
  const shapeSwap = parseExpression('"a blue square" - "a red square" + "a red circle"');
  assert.deepEqual([...shapeSwap].sort(), [...it.combo].sort());
  for (const s of set) assert.equal(s.combo.size, 3);
  assert.equal(unevenness([{ rgb: [0] }, { rgb: [51] }, { rgb: [102] }]), 1, 'equal steps are perfectly even');
  assert.ok(Math.abs(unevenness([{ rgb: [0] }, { rgb: [0] }, { rgb: [255] }]) - 2) < 1e-12, 'one jump over two steps: 2');
});

async function tinyRun(sets: string[] = []): Promise<string> {
  const count = 32;
  const samples = generateShapes({ split: 'train', count, seed: 5 });
  const data = { latents: normals('latent-test', count * 8 * 8 * 4), captions: samples.map((s) => s.captions), count, latentSize: 8, latentChannels: 4 };
  const text = loadRandomEncoder();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-latent-'));
  await train({ config: applyOverrides(presetConfig(sets.includes('baseline') ? 'fm-tiny' : 'tiny'), ['steps=4', 'batchSize=8', 'data.trainCount=32', 'optim.lr=0.01', 'optim.warmupSteps=0', 'emaDecay=0']), out, prepared: { data, text } });
  text.dispose();
  return out;
}

test('on a trained run: paths and grids start and end at the prompts\' own latents; combinations are the hand sum', async () => {
  await initBackend();
  const run = await loadRun(await tinyRun());
  // Arguments are thunks, so the slices they make are freed by the tidy too.
  const maxDiff = (x: () => tf.Tensor, y: () => tf.Tensor) => tf.tidy(() => x().sub(y()).abs().max().dataSync()[0]);
  const prompts = ['a red circle', 'a blue square', 'a green triangle'];
  const own = encodeTexts(run, prompts, { seed: 3 });
  const before = tf.memory().numTensors;
  for (const mode of ['lerp', 'slerp'] as const) {
    const p = interpolationPath(run, prompts, 2, mode, { seed: 3 });
    assert.equal(p.shape[0], 7, 'two segments of 4, sharing the middle prompt');
    for (const [k, i] of [[0, 0], [3, 1], [6, 2]]) assert.ok(maxDiff(() => p.slice([k], [1]), () => own.slice([i], [1])) < 1e-5, `${mode}: image ${k} is prompt ${i}`);
    p.dispose();
  }
  const g = bilinearGrid(run, ['a red circle', 'a blue circle', 'a red square', 'a blue square'], 1, { seed: 3 });
  const corners = encodeTexts(run, ['a red circle', 'a blue circle', 'a red square', 'a blue square'], { seed: 3 });
  for (const [k, i] of [[0, 0], [2, 1], [6, 2], [8, 3]]) assert.ok(maxDiff(() => g.slice([k], [1]), () => corners.slice([i], [1])) < 1e-5, `grid corner ${k}`);
  assert.ok(maxDiff(() => g.slice([4], [1]), () => corners.mean(0, true)) < 1e-5, 'the centre of a 3x3 grid is the mean of the corners');
  // A combination, unstandardised, equals the hand sum of the same seed's latents; standardised, it has mean 0, std 1.
  const combo = parseExpression('"a red circle" - "a blue square" + 0.5 * "a green triangle"');
  const raw = combineLatents(run, [combo], { seed: 3, standardise: false });
  const hand = tf.tidy(() => own.slice([0], [1]).sub(own.slice([1], [1])).add(own.slice([2], [1]).mul(0.5)));
  assert.ok(maxDiff(() => raw, () => hand) < 1e-5);
  const std = combineLatents(run, [combo], { seed: 3 });
  const m = tf.moments(std);
  assert.ok(Math.abs(m.mean.dataSync()[0]) < 1e-5 && Math.abs(m.variance.dataSync()[0] - 1) < 1e-4);
  tf.dispose([g, corners, raw, hand, std, m.mean, m.variance]);
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  assert.throws(() => encodeTexts(run, ['a red cirle']), /unknown word "cirle"/);
  own.dispose();
  run.dispose();
});

test('crossflow latent: images and samples.jsonl; clear errors for a bad expression, an unknown word, a baseline run, a missing run', async () => {
  const dir = await tinyRun();
  const cli = (args: string[]) => execFileSync(process.execPath, [path.join(ROOT, 'bin', 'crossflow.js'), 'latent', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const err = (args: string[]) => {
    try {
      cli(args);
      return '';
    } catch (e) {
      return (e as { stderr: string }).stderr;
    }
  };
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cf-latent-out-')), 'x');
  cli(['--run', dir, '--expr', '"a red circle" - "a red square" + "a blue square"', '--out', out, '--seeds', '2']);
  const lines = fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[0].terms, { 'a red circle': 1, 'a red square': -1, 'a blue square': 1 });
  assert.ok(fs.existsSync(path.join(out, '1.png')));
  const interp = path.join(path.dirname(out), 'i');
  cli(['interpolate', '--run', dir, '--prompts', 'a red circle', 'a blue square', '--steps', '3', '--path', 'slerp', '--out', interp]);
  assert.equal(fs.readFileSync(path.join(interp, 'samples.jsonl'), 'utf8').trim().split('\n').length, 5);
  assert.match(err(['--run', dir, '--expr', '("a red circle" + "a blue square"', '--out', out]), /unbalanced parentheses.*position 1/);
  assert.match(err(['--run', dir, '--expr', '"a red cirle"', '--out', out]), /unknown word "cirle".*circle/);
  assert.match(err(['--run', path.join(dir, 'nope'), '--expr', '"a red circle"', '--out', out]), /--run .*nope does not exist/);
  assert.match(err(['interpolate', '--run', dir, '--prompts', 'a red circle', 'a blue square', '--path', 'cubic', '--out', out]), /--path must be one of lerp, slerp/);
  const baseline = await tinyRun(['baseline']);
  assert.match(err(['--run', baseline, '--expr', '"a red circle"', '--out', out]), /baseline run .* no Text VE/);
});
