import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { quickstartConfig, writeQuickstartResult, QUICKSTART_SAMPLE_SEED } from '../../lib/train/quickstart';
import type { TrainResult } from '../../lib/train/trainer';
import { accuracyByShape } from '../../lib/train/evaluate';

test('the quickstart result file carries the command, seed count and full config beside the numbers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-quickstart-'));
  const config = quickstartConfig('small');
  const result: TrainResult = {
    out: '/x', steps: 4000, resumedFrom: 0, seconds: 730.5, counts: { flow: 1, ve: 2, aux: 3, model: 3 }, lastLoss: 1.5, stoppedEarly: false,
    autoencoder: { psnr: 29.5, seconds: 51, file: '/ae' },
  } as unknown as TrainResult;
  const rows = [
    { prompts: 'seen' as const, n: 160, accuracy: 0.4, color: 0.9, shape: 0.4, one_object: 0.7 },
    { prompts: 'heldout' as const, n: 32, accuracy: 0.25, color: 0.8, shape: 0.3, one_object: 0.6 },
  ];
  const file = writeQuickstartResult('small', { backend: 'native', config, result, rows, perPrompt: 8 }, dir);
  assert.equal(file, path.join(dir, 'single_object-small.json'));
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.match(r.command, /crossflow notebooks --profile small 02_quickstart/);
  assert.equal(r.seeds, 1);
  assert.deepEqual(r.config, config);
  assert.deepEqual(r.sampling, { cfg: config.guidance.scale, steps: config.sample.steps, seed: QUICKSTART_SAMPLE_SEED, per_prompt: 8 });
  assert.deepEqual(r.rows, rows);
  assert.equal(r.train_seconds, 730.5);
  assert.equal(r.autoencoder_psnr, 29.5);
});

test('accuracy by shape is the mean over the prompts naming each shape', () => {
  const perPrompt = [
    { prompt: 'a red circle', accuracy: 1 },
    { prompt: 'a blue circle', accuracy: 0.5 },
    { prompt: 'an orange diamond', accuracy: 0.125 },
    { prompt: 'a green square', accuracy: 0 },
  ];
  assert.deepEqual(accuracyByShape(perPrompt), { circle: 0.75, square: 0, diamond: 0.125 });
  assert.deepEqual(accuracyByShape([]), {});
});
