// A damaged checkpoint (a copy cut short, a full disk, a file overwritten) is a CrossflowError that names the
// file, says it is damaged and why, and what to fall back to; never a bare JSON or typed-array error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { CrossflowError } from '../../lib/errors';
import { readCheckpoint, writeCheckpoint } from '../../lib/nn/checkpoint';

/** A run directory with a checkpoint of two tensors (6 + 3 floats) written by the real writer; returns its bytes. */
function written(dir: string, name: string, step: number): { file: string; bytes: Buffer; headerEnd: number } {
  const file = path.join(dir, name);
  const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const b = tf.tensor1d([7, 8, 9]);
  writeCheckpoint(file, { step, note: 'x'.repeat(200) }, [['a', a], ['b', b]]);
  tf.dispose([a, b]);
  const bytes = fs.readFileSync(file);
  return { file, bytes, headerEnd: 12 + bytes.readUInt32LE(8) };
}

const tmpDir = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cf-ckpt-${tag}-`));

/** The error readCheckpoint throws for `file` (failing the test when it reads fine or throws something else). */
function errorOf(file: string): string {
  try {
    readCheckpoint(file);
  } catch (err) {
    assert.ok(err instanceof CrossflowError, `a CrossflowError, not ${String(err)}`);
    return err.message;
  }
  assert.fail(`${file} was read without an error`);
}

test('an intact checkpoint reads back its metadata and values', async () => {
  await initBackend();
  const dir = tmpDir('ok');
  const { file } = written(dir, 'checkpoint.ckpt', 200);
  const ck = readCheckpoint<{ step: number }>(file);
  assert.equal(ck.meta.step, 200);
  assert.deepEqual(Array.from(ck.tensors.get('a')!.values), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(ck.tensors.get('a')!.shape, [2, 3]);
  assert.deepEqual(Array.from(ck.tensors.get('b')!.values), [7, 8, 9]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('checkpoint.ckpt cut inside its JSON header: names the file, says it is damaged, and that no earlier one is kept', async () => {
  await initBackend();
  const dir = tmpDir('header');
  const { file, bytes, headerEnd } = written(dir, 'checkpoint.ckpt', 200);
  fs.writeFileSync(file, bytes.subarray(0, headerEnd - 40)); // what used to give "Unterminated string in JSON at position ..."
  const message = errorOf(file);
  assert.ok(message.startsWith(`checkpoint ${file} is damaged`), message);
  assert.match(message, /the header says it is \d+ bytes long, the file ends after \d+/);
  assert.match(message, /No earlier checkpoint is kept/);
  assert.ok(message.includes(`The run in ${dir} can be resumed or sampled only from an intact checkpoint.ckpt`), message);
  assert.match(message, /bad\.ckpt holds only autoguidance's weights/);
  assert.doesNotMatch(message, /Unterminated string/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a header whose JSON itself is broken (length intact) is reported with the parser\'s reason', async () => {
  await initBackend();
  const dir = tmpDir('json');
  const { file, bytes } = written(dir, 'checkpoint.ckpt', 200);
  const broken = Buffer.from(bytes);
  broken.write('\u0000\u0000', 12 + 20, 'latin1'); // zeros over two header bytes: a hole left by a crash
  fs.writeFileSync(file, broken);
  const message = errorOf(file);
  assert.match(message, /is damaged \(truncated or overwritten\): its header is not valid JSON \(.+\)\. No earlier checkpoint is kept/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('checkpoint.ckpt cut inside its tensor data: the byte counts are given', async () => {
  await initBackend();
  const dir = tmpDir('data');
  const { file, bytes, headerEnd } = written(dir, 'checkpoint.ckpt', 200);
  fs.writeFileSync(file, bytes.subarray(0, headerEnd + 10)); // 10 of the 36 data bytes
  assert.match(errorOf(file), /its tensors need 36 bytes of data, the file holds 10\. No earlier checkpoint is kept/);
  // Cut so short that even the preamble is gone.
  fs.writeFileSync(file, bytes.subarray(0, 5));
  assert.match(errorOf(file), /is damaged .*: 5 bytes, shorter than the 12-byte preamble/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a complete checkpoint.ckpt.tmp (killed between write and rename) is named as the checkpoint to fall back to', async () => {
  await initBackend();
  const dir = tmpDir('tmp');
  const { file, bytes, headerEnd } = written(dir, 'checkpoint.ckpt', 200);
  written(dir, 'checkpoint.ckpt', 400);
  fs.renameSync(file, `${file}.tmp`); // the step-400 save, as if killed before its rename
  fs.writeFileSync(file, bytes.subarray(0, headerEnd - 3)); // the step-200 one, damaged
  const message = errorOf(file);
  assert.ok(message.includes(`${file}.tmp is a complete save (step 400) that was never renamed into place: move it over checkpoint.ckpt to use it.`), message);
  // ...and once moved into place it reads.
  fs.renameSync(`${file}.tmp`, file);
  assert.equal(readCheckpoint<{ step: number }>(file).meta.step, 400);
  // A partial .tmp is no fallback, and is said to be unusable.
  fs.writeFileSync(file, bytes.subarray(0, headerEnd - 3));
  fs.writeFileSync(`${file}.tmp`, bytes.subarray(0, 30));
  assert.match(errorOf(file), /No earlier checkpoint is kept \(checkpoint\.ckpt\.tmp beside it is an unfinished save, not usable either\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a damaged bad.ckpt or cached autoencoder says what the file is for and how to do without it", async () => {
  await initBackend();
  const dir = tmpDir('bad');
  const bad = written(dir, 'bad.ckpt', 50);
  fs.writeFileSync(bad.file, bad.bytes.subarray(0, bad.headerEnd + 4));
  const message = errorOf(bad.file);
  assert.ok(message.startsWith(`checkpoint ${bad.file} is damaged`), message);
  assert.ok(message.includes(`Delete ${bad.file} to sample ${dir} without autoguidance (--guidance none or --cfg 1)`), message);
  fs.mkdirSync(path.join(dir, 'autoencoders'));
  const ae = written(path.join(dir, 'autoencoders'), 'shapes32-0123abcd.ckpt', 0);
  fs.writeFileSync(ae.file, ae.bytes.subarray(0, 100));
  assert.match(errorOf(ae.file), /shapes32-0123abcd\.ckpt is damaged .*a cached autoencoder with no copy: delete it and the next command that needs it trains and caches it again/);
  fs.rmSync(dir, { recursive: true, force: true });
});
