// The config schema: the configs it builds are the ones runs and results are keyed by (hashes pinned
// from before the schema existed), and --set reads and rejects values as it always did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { applyOverrides, checkFields } from '../../lib/config/overrides';
import { defaultConfig, FIELDS, SETTABLE_KEYS } from '../../lib/config/schema';
import { hashOf, rowConfig } from '../../lib/experiments/plan';
import { STUDIES } from '../../lib/experiments/studies/index';
import { completeConfig, PRESET_NAMES, presetConfig } from '../../lib/models/presets';
import { validateConfig } from '../../lib/train/config';
import { quickstartPaths } from '../../lib/notebooks/quickstart';

// hashOf(presetConfig(name)) as computed by the hand-written TrainConfig/FIELD_RULES/baseConfig of commit 7f16ca9.
// Experiment results and run directories are keyed by these hashes: a change here orphans every result.
const PRESET_HASHES: Record<string, string> = {
  tiny: '0a8f8848b17b',
  xs: 'bf28d19fb949',
  small: 'ed16a57fae9c',
  base: '13b49231089b',
  large: 'd7f4a2e124f1',
  'fm-tiny': '29d57484ff07',
  'fm-xs': 'af12e34fe761',
  'fm-small': 'f5cafb9aea33',
  'fm-base': 'bbfa1ada65b3',
  'fm-large': 'd27492a135e4',
};

test('every preset builds the config it built before the schema (same hash)', () => {
  assert.deepEqual(PRESET_NAMES, Object.keys(PRESET_HASHES));
  for (const name of PRESET_NAMES) assert.equal(hashOf(presetConfig(name)), PRESET_HASHES[name], name);
});

test('study rows keep their config hashes (the keys of results/ablations)', () => {
  const rows: Array<[string, string, number, 'smoke' | 'small' | 'paper', string]> = [
    ['encoder', 've', 0, 'small', '7746e9141822'],
    ['guidance', 'autoguidance', 0, 'small', 'c94fe4d92266'],
    ['training', 'two-stage-joint', 0, 'small', '5d099fcae020'],
    ['text-encoder', 'word2vec', 1, 'paper', 'a9a007c8477c'],
    ['enc-loss', 'tt-recon', 0, 'smoke', 'e7e12ce93c2a'],
    ['guidance-recipe', 'indicator', 0, 'small', '79d334185aae'],
  ];
  for (const [study, row, seed, profile, hash] of rows) {
    const s = STUDIES[study];
    const r = s.rows.find((x) => x.name === row);
    assert.ok(r, `${study}/${row}`);
    assert.equal(hashOf(rowConfig(s, r, seed, profile)), hash, `${study}/${row} seed ${seed} ${profile}`);
  }
});

test('the quickstart run directories (named by a hash of the config as JSON, key order included) are unchanged', () => {
  const names = (['smoke', 'small', 'paper'] as const).map((p) => path.basename(quickstartPaths(p, []).runDir));
  assert.deepEqual(names, ['quickstart-smoke-5a5a9222', 'quickstart-small-6b30186c', 'quickstart-paper-87676c83']);
});

test('the schema covers exactly the fields of a config, and its defaults pass its own checks', () => {
  const leaves = (o: unknown, prefix = ''): string[] =>
    o && typeof o === 'object' ? Object.entries(o).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k)) : [prefix];
  // Optional fields (log.keepSteps) are in a config only when it sets them.
  const always = FIELDS.filter((f) => !f.info.optional).map((f) => f.key);
  for (const name of PRESET_NAMES) assert.deepEqual(leaves(presetConfig(name)), always, name);
  assert.doesNotThrow(() => checkFields(defaultConfig()));
  // A fresh object each time: presets edit theirs.
  const a = defaultConfig();
  a.model.width = 1;
  assert.equal(defaultConfig().model.width, 128);
});

test('--set reads numbers, names a bad value as typed, and lists the allowed values', () => {
  const tiny = presetConfig('tiny');
  assert.throws(() => applyOverrides(tiny, ['model.width=abc']), /^CrossflowError: invalid model\.width: "abc"; allowed: an integer >= 8$/);
  assert.throws(() => applyOverrides(tiny, ['steps=']), /invalid steps: ""; allowed: an integer >= 1/);
  assert.throws(() => applyOverrides(tiny, ['model.width=7']), /invalid model\.width: 7; allowed: an integer >= 8/);
  assert.throws(() => applyOverrides(tiny, ['optim.lr=0']), /invalid optim\.lr: 0; allowed: a number > 0/);
  assert.throws(() => applyOverrides(tiny, ['ve.reductions=7']), /invalid ve\.reductions: 7; allowed: an integer >= 0 and <= 6/);
  assert.throws(() => applyOverrides(tiny, ['model.predict=noise']), /invalid model\.predict: "noise"; allowed: velocity, data/);
  assert.equal(applyOverrides(tiny, ['guidance.scale=+2.5', 'optim.lr=2e-4']).guidance.scale, 2.5);
  // patchSize is a number that takes 1, 2 or 4, written as such.
  assert.equal(applyOverrides(tiny, ['model.patchSize=4']).model.patchSize, 4);
  for (const bad of ['3', '2.0', 'two']) assert.throws(() => applyOverrides(tiny, [`model.patchSize=${bad}`]), new RegExp(`invalid model\\.patchSize: "${bad}"; allowed: 1, 2, 4`));
});

test('single-value fields stay in the config but are not --set keys', () => {
  assert.equal(presetConfig('small').data.dataset, 'shapes');
  assert.equal(presetConfig('small').data.imageSize, 32);
  assert.ok(!SETTABLE_KEYS.includes('data.dataset') && !SETTABLE_KEYS.includes('data.imageSize'));
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['data.imageSize=64']), /data\.imageSize is fixed at 32 .*not a --set key/);
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['data.dataset=shapes']), /data\.dataset is fixed at "shapes" .*not a --set key/);
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['data.size=1']), (e: Error) => /config key/.test(e.message) && !e.message.includes('data.imageSize'));
  // A config object that holds another value still fails validation, naming the value allowed.
  const c = presetConfig('small') as unknown as { data: { imageSize: number } };
  c.data.imageSize = 64;
  assert.throws(() => checkFields(c as never), /invalid data\.imageSize: 64; allowed: 32/);
});

test("an old run missing fields gets each field's value from before it existed, then the preset's", () => {
  const old = JSON.parse(JSON.stringify(presetConfig('small')));
  for (const k of ['schedule', 'minLrFraction']) delete old.optim[k];
  for (const k of ['posEmbed', 'globalCond', 'predict']) delete old.model[k];
  for (const k of ['logitScale', 'imageEncoder', 'convChannels']) delete old.enc[k];
  delete old.data.mix;
  delete old.sample; // no `before`: the preset's value
  const c = completeConfig(old);
  assert.equal(c.optim.schedule, 'constant');
  assert.equal(c.model.posEmbed, 'learned');
  assert.deepEqual(c.data.mix, { single: 0.3, count: 0.3, relation: 0.4 });
  assert.equal(c.sample.steps, 50);
  const changed = { ...presetConfig('small'), optim: { ...presetConfig('small').optim, schedule: 'constant' }, model: { ...presetConfig('small').model, posEmbed: 'learned' } };
  assert.equal(hashOf(c), hashOf(changed));
});

test('an optional field (log.keepSteps) is absent unless set, so configs without it keep their hashes; set, it is checked', () => {
  assert.deepEqual(FIELDS.filter((f) => f.info.optional).map((f) => f.key), ['log.keepSteps']);
  assert.ok(SETTABLE_KEYS.includes('log.keepSteps'));
  const tiny = presetConfig('tiny');
  assert.ok(!('keepSteps' in tiny.log) && !('keepSteps' in defaultConfig().log));
  assert.ok(!('keepSteps' in (completeConfig(JSON.parse(JSON.stringify(tiny))).log)), 'old runs do not gain it');
  const kept = applyOverrides(tiny, ['log.keepSteps=5, 10,20']);
  assert.deepEqual(kept.log.keepSteps, [5, 10, 20]);
  assert.notEqual(hashOf(kept), PRESET_HASHES.tiny);
  assert.equal(hashOf(applyOverrides(tiny, ['steps=20'])), PRESET_HASHES.tiny);
  for (const bad of ['', '10,5', '5,5', 'a', '0,3', '2.5'])
    assert.throws(() => applyOverrides(tiny, [`log.keepSteps=${bad}`]), new RegExp(`^CrossflowError: invalid log\\.keepSteps: "${bad}"; allowed: increasing integers >= 1, comma-separated`), bad);
  // Past the run's end: validateConfig names the run's length.
  assert.throws(() => validateConfig(applyOverrides(tiny, ['log.keepSteps=10,30'])), /invalid log\.keepSteps: "10,30"; allowed: steps within the run's 20/);
  assert.doesNotThrow(() => validateConfig(kept));
});
