import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduledLr, ScheduleSpec } from '../../lib/optim/schedule';
import { learningRate } from '../../lib/train/config';
import { presetConfig } from '../../lib/models/presets';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('warm-up is linear to the peak, then constant stays at the peak', () => {
  const s: ScheduleSpec = { lr: 1e-3, warmupSteps: 10, schedule: 'constant', minLrFraction: 0.1 };
  close(scheduledLr(s, 0, 100), 1e-4, 'step 0');
  close(scheduledLr(s, 4, 100), 5e-4, 'step 4');
  close(scheduledLr(s, 9, 100), 1e-3, 'last warm-up step');
  close(scheduledLr(s, 99, 100), 1e-3, 'last step');
});

test('cosine decays from the peak after warm-up to minLrFraction at the last step, through the midpoint', () => {
  const s: ScheduleSpec = { lr: 2e-3, warmupSteps: 10, schedule: 'cosine', minLrFraction: 0.1 };
  const total = 111; // decay over steps 10..110: 100 intervals
  close(scheduledLr(s, 10, total), 2e-3, 'first step after warm-up');
  close(scheduledLr(s, 60, total), 2e-3 * (0.1 + 0.9 * 0.5), 'midpoint: cos(pi/2) = 0');
  close(scheduledLr(s, 35, total), 2e-3 * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4))), 'quarter');
  close(scheduledLr(s, 110, total), 2e-4, 'last step');
  for (let k = 11; k < total; k++) assert.ok(scheduledLr(s, k, total) <= scheduledLr(s, k - 1, total), `monotone at ${k}`);
});

test('the trainer schedules over the whole run, stage 1 included', () => {
  const c = presetConfig('small');
  c.optim = { ...c.optim, schedule: 'cosine', warmupSteps: 0, minLrFraction: 0 };
  c.strategy = 'two-stage';
  c.stage1Steps = 100;
  c.steps = 101; // 201 global steps: the midpoint is step 100
  close(learningRate(c, 100), c.optim.lr * 0.5, 'midpoint of 201 steps');
  close(learningRate(c, 200), 0, 'last step');
});
