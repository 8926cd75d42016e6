// Run keys: a config always hashes the same, rows two studies share are one run, and a changed
// config or evaluation makes an old result file stale instead of being mixed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { canonicalJson, hashOf, planRun, planStudy, rowConfig } from '../../lib/experiments/plan';
import { studyByName, STUDIES } from '../../lib/experiments/studies/index';
import { effectiveSets } from '../../lib/experiments/study';

test('canonical JSON ignores key order at every level; hashes follow', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 3 }], c: 'z' } }), '{"a":{"c":"z","d":[1,{"x":3,"y":2}]},"b":1}');
  assert.equal(hashOf({ a: 1, b: 2 }), hashOf({ b: 2, a: 1 }));
  assert.notEqual(hashOf({ a: 1, b: 2 }), hashOf({ a: 1, b: 3 }));
});

test('rows are deltas on the study base; shared rows of different studies are the same run', () => {
  const dirs = { results: '/tmp/r', runs: '/tmp/runs' };
  const guidance = studyByName('guidance');
  const indicator = planRun(guidance, guidance.rows.find((r) => r.name === 'indicator')!, 0, 'small', dirs);
  const clip = planRun(studyByName('text-encoder'), studyByName('text-encoder').rows.find((r) => r.name === 'clip')!, 0, 'small', dirs);
  const joint = planRun(studyByName('training'), studyByName('training').rows.find((r) => r.name === 'joint')!, 0, 'small', dirs);
  assert.equal(indicator.configHash, clip.configHash);
  assert.equal(indicator.configHash, joint.configHash);
  assert.equal(indicator.evalHash, clip.evalHash, 'same guidance weight: the evaluation is shared too');
  // The paper's final configuration, at the small profile's scale.
  const c = indicator.config;
  assert.deepEqual([c.ve.variant, c.enc.kind, c.guidance.mode, c.strategy, c.text.encoder, c.steps, c.preset], ['ve', 'it-contrast', 'indicator', 'joint', 'clip', 2500, 'small']);
  // Block a's VE row is block b's T-T recon row; block c's unguided row is block b's I-T contrast row.
  const enc = studyByName('encoder');
  const loss = studyByName('enc-loss');
  assert.equal(planRun(enc, enc.rows[2], 1, 'small', dirs).configHash, planRun(loss, loss.rows[0], 1, 'small', dirs).configHash);
  assert.equal(planRun(guidance, guidance.rows[0], 1, 'small', dirs).configHash, planRun(loss, loss.rows[2], 1, 'small', dirs).configHash);
  assert.notEqual(planRun(guidance, guidance.rows[0], 1, 'small', dirs).configHash, planRun(guidance, guidance.rows[0], 2, 'small', dirs).configHash, 'the seed is part of the key');
  // Every row of every study validates.
  for (const s of Object.values(STUDIES)) for (const r of s.rows) for (const p of ['smoke', 'small', 'paper'] as const) assert.doesNotThrow(() => rowConfig(s, r, 0, p), `${s.name}/${r.name}/${p}`);
});

test('a result file made with another config is stale, not done; the same config is done', () => {
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-plan-'));
  const dirs = { results, runs: path.join(results, 'runs') };
  const study = studyByName('encoder');
  const [first] = planStudy(study, 'smoke', dirs, { rows: ['ve'], seeds: 1 });
  assert.equal(first.status, 'pending');
  assert.match(first.command, /^npx crossflow ablate encoder --profile smoke --rows ve --seed 0 --results-dir /);
  fs.mkdirSync(path.dirname(first.resultFile), { recursive: true });
  fs.writeFileSync(first.resultFile, JSON.stringify({ config_hash: first.configHash, eval_hash: first.evalHash }));
  assert.equal(planStudy(study, 'smoke', dirs, { rows: ['ve'], seeds: 1 })[0].status, 'done');
  fs.writeFileSync(first.resultFile, JSON.stringify({ config_hash: 'another', eval_hash: first.evalHash }));
  assert.equal(planStudy(study, 'smoke', dirs, { rows: ['ve'], seeds: 1 })[0].status, 'stale');
  assert.throws(() => planStudy(study, 'smoke', dirs, { rows: ['nope'] }), /--rows.*encoder, encoder-noise, ve/);
  // Seed-major order: every row's seed 0 before any seed 1.
  const order = planStudy(study, 'smoke', dirs, { seeds: 2 }).map((r) => `${r.row}/${r.seed}`);
  assert.deepEqual(order, ['encoder/0', 'encoder-noise/0', 've/0', 'encoder/1', 'encoder-noise/1', 've/1']);
});

test('a row shared with another study is read from that study\'s result file until its own is written', async () => {
  const { collectResults } = await import('../../lib/experiments/report');
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-shared-'));
  const dirs = { results, runs: path.join(results, 'runs') };
  const guidance = studyByName('guidance');
  const indicator = planRun(guidance, guidance.rows.find((r) => r.name === 'indicator')!, 0, 'small', dirs);
  const metrics = { fid: 6.5, clip_score: 0.5, r_precision: 0.3, geneval_overall: 0.2, geneval_single_object: 0.4, geneval_two_objects: 0.1, geneval_counting: 0.1, geneval_colors: 0.2, geneval_position: 0, geneval_attribute_binding: 0, single_seen: 0.3, single_heldout: 0.2 };
  fs.mkdirSync(path.dirname(indicator.resultFile), { recursive: true });
  fs.writeFileSync(indicator.resultFile, JSON.stringify({ config_hash: indicator.configHash, eval_hash: indicator.evalHash, metrics, timing: { train_seconds: 1, eval_seconds: 1 } }));
  const text = collectResults(studyByName('text-encoder'), 'small', dirs);
  const clip = text.rows.find((r) => r.row.name === 'clip')!;
  assert.deepEqual([...clip.bySeed.keys()], [0], 'the CLIP row is the guidance block\'s indicator run');
  assert.equal(clip.files.get(0), indicator.resultFile);
  assert.equal(clip.stats.fid.mean, 6.5);
  assert.equal(text.rows.find((r) => r.row.name === 'lm')!.bySeed.size, 0, 'an unshared row has nothing');
  // The unguided row is evaluated at w = 1, the indicator row at 3: no sharing across evaluations.
  const encLoss = collectResults(studyByName('enc-loss'), 'small', dirs);
  assert.equal(encLoss.rows.find((r) => r.row.name === 'it-contrast')!.bySeed.size, 0);
});

test('reports show the overrides that take effect: the last value of each key, in the order keys first appear', () => {
  assert.deepEqual(effectiveSets(['a=1', 'b=2', 'a=3', 'c=4']), ['a=3', 'b=2', 'c=4']);
  const encoderBase = effectiveSets(STUDIES.encoder.base);
  assert.deepEqual(encoderBase.filter((s) => s.startsWith('enc.kind=')), ['enc.kind=tt-recon']);
  assert.deepEqual(encoderBase.filter((s) => s.startsWith('guidance.mode=')), ['guidance.mode=none']);
});
