import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/backend/select';
import { buildModels } from '../../lib/models/crossflow';
import { PRESETS, completeConfig, presetConfig } from '../../lib/models/presets';
import { flowTransformer } from '../../lib/models/flowTransformer';
import { REF_DIT_CONFIG } from '../../lib/bench/refDit';
import { ParamStore } from '../../lib/nn/params';

// Shapes latents 8x8x4 and the random text encoder's 16 x 64 tokens.
const LATENT = { size: 8, channels: 4 };
const TEXT = { tokens: 16, dim: 64 };

function countOf(name: string): number {
  const m = buildModels(presetConfig(name), LATENT, TEXT);
  const n = m.counts.model;
  m.dispose();
  return n;
}

test('CrossFlow presets span ~10x in parameters; each baseline is within 10% of its CrossFlow size', async () => {
  await initBackend();
  const sizes = ['xs', 'small', 'base', 'large'].map((n) => [n, countOf(n)] as const);
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i][1] > sizes[i - 1][1], `${sizes[i][0]} > ${sizes[i - 1][0]}`);
  assert.ok(sizes[3][1] / sizes[0][1] >= 10, `large/xs = ${sizes[3][1] / sizes[0][1]}`);
  for (const [name, n] of sizes) {
    const b = countOf(`fm-${name}`);
    assert.ok(Math.abs(b - n) / n <= 0.1, `fm-${name} ${b} vs ${name} ${n}`);
  }
  assert.equal(PRESETS['fm-small'].family, 'baseline');
});

test('the ref-dit configuration keeps its 7,383,556 parameters', async () => {
  await initBackend();
  const p = new ParamStore(0);
  flowTransformer(REF_DIT_CONFIG, p);
  assert.equal(p.count(), 7383556);
  p.dispose();
});

test('label-form indicator adds no token and the same parameters as the token form', async () => {
  await initBackend();
  const p1 = new ParamStore(0);
  flowTransformer({ ...REF_DIT_CONFIG, width: 32, depth: 1, heads: 2 }, p1, 'a');
  const p2 = new ParamStore(0);
  flowTransformer({ ...REF_DIT_CONFIG, width: 32, depth: 1, heads: 2, indicatorForm: 'label' }, p2, 'b');
  // The token form's positional table has one more row (the indicator token).
  assert.equal(p1.count() - p2.count(), 32);
  p1.dispose();
  p2.dispose();
});

test('completeConfig fills fields added since an old run was written as that run behaved, and keeps what it has', () => {
  const old = JSON.parse(JSON.stringify(presetConfig('small')));
  delete old.model.posEmbed;
  delete old.optim.schedule;
  delete old.data.mix;
  delete old.model.globalCond;
  old.model.longSkips = false; // a retired option, written by runs of its time: off, so dropped
  old.model.width = 96; // a field the old run set differently
  const c = completeConfig(old);
  // Runs from before these fields trained learned positions at a constant lr on the 0.3/0.3/0.4 mix.
  assert.equal(c.model.posEmbed, 'learned');
  assert.equal(c.model.globalCond, 'none');
  assert.ok(!('longSkips' in c.model), 'the retired field is dropped');
  assert.equal(c.optim.schedule, 'constant');
  assert.deepEqual(c.data.mix, { single: 0.3, count: 0.3, relation: 0.4 });
  assert.equal(c.optim.lr, presetConfig('small').optim.lr);
  assert.equal(c.model.width, 96);
});

test('a run that trained with a retired option is an error naming it; the same option off loads', () => {
  for (const [field, value] of [['longSkips', true], ['selfCond', true], ['timeScale', 1000], ['globalHidden', 512], ['globalCond', 'film']] as const) {
    const old = JSON.parse(JSON.stringify(presetConfig('small')));
    old.model[field] = value;
    assert.throws(() => completeConfig(old), new RegExp(`model\\.${field}=${JSON.stringify(value)}.*removed`), field);
  }
  const off = JSON.parse(JSON.stringify(presetConfig('small')));
  Object.assign(off.model, { longSkips: false, selfCond: false, timeScale: 1, globalHidden: 0, globalCond: 'mlp' });
  const c = completeConfig(off);
  assert.equal(c.model.globalCond, 'mlp');
  assert.deepEqual(Object.keys(c.model).sort(), Object.keys(presetConfig('small').model).sort());
});
