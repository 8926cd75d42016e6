import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { paramName, ParamStore } from '../../lib/nn/params';

test('two stores with the same parameter names coexist; paramName keeps the logical name', async () => {
  await initBackend();
  const a = new ParamStore(0);
  const b = new ParamStore(0);
  const va = a.create('p.weight', [2, 3], 'xavier');
  const vb = b.create('p.weight', [2, 3], 'xavier'); // tfjs alone would throw "already registered"
  assert.equal(paramName(va), 'p.weight');
  assert.equal(paramName(vb), 'p.weight');
  assert.equal(va.name, 'p.weight');
  assert.equal(vb.name, 'p.weight#2');
  assert.deepEqual(Array.from(vb.dataSync()), Array.from(va.dataSync()), 'same seed, same initial values');
  vb.assign(tf.zeros([2, 3]));
  assert.notDeepEqual(Array.from(va.dataSync()), [0, 0, 0, 0, 0, 0], 'writing one leaves the other');
  a.dispose();
  const c = new ParamStore(1);
  assert.equal(c.create('p.weight', [1], 'zeros').name, 'p.weight', 'a disposed name is free again');
  b.dispose();
  c.dispose();
});
