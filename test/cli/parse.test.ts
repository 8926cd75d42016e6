// The option parsers the commands share: values in range pass through as numbers, the rest fail with
// the option's name and what it allows, at parse time (before any work starts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { guidanceWeight, nonNegativeInt, positiveInt } from '../../lib/cli/parse';

const CLI = path.join(__dirname, '..', '..', 'bin', 'crossflow.js');

test('positiveInt, nonNegativeInt and guidanceWeight: numbers in range, named errors otherwise', () => {
  assert.equal(positiveInt('--jobs')('3'), 3);
  assert.throws(() => positiveInt('--jobs')('0'), /--jobs must be a positive integer, got '0'/);
  assert.throws(() => positiveInt('--jobs')('1.5'), /--jobs must be a positive integer, got '1.5'/);
  assert.equal(nonNegativeInt('--seed')('0'), 0);
  assert.throws(() => nonNegativeInt('--seed')('-1'), /--seed must be an integer >= 0, got '-1'/);
  assert.throws(() => nonNegativeInt('--seed')(''), /--seed must be an integer >= 0, got ''/, 'empty is not zero');
  assert.equal(guidanceWeight('1.5'), 1.5);
  assert.equal(guidanceWeight('0'), 0);
  for (const bad of ['-0.5', 'abc', '']) assert.throws(() => guidanceWeight(bad), /--cfg must be a number >= 0/);
});

test('crossflow eval --run DIR --cfg W: a bad weight is refused before the run is opened', () => {
  assert.throws(
    () => execFileSync(process.execPath, [CLI, 'eval', '--run', '/nonexistent', '--cfg', 'strong'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    (e: { stderr: string }) => /--cfg must be a number >= 0, got 'strong'/.test(e.stderr) && !/nonexistent/.test(e.stderr),
  );
});
