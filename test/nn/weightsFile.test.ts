// The one weights-file format (lib/nn/weightsFile.ts): a round trip keeps metadata, names, order, shapes
// and every float32 bit; the committed weights (text encoders, judges, the Shapes autoencoder) load to the
// same tensors as their readers before the format was unified; a damaged file is a CrossflowError that
// names the file, why, and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { CrossflowError } from '../../lib/errors';
import { encodeWeightsFile, parseWeightsFile, readWeightsFile, writeWeightsFile, weightsToTensors, WEIGHTS_MAGIC } from '../../lib/nn/weightsFile';
import { loadWeights, saveWeights, EncoderManifest } from '../../lib/text/weights';
import { loadJudgeWeights, saveJudgeWeights, JudgeManifest } from '../../lib/eval/judges/weights';
import { readCheckpoint } from '../../lib/nn/checkpoint';
import { repoPath } from '../../lib/paths';

const tmpDir = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cf-weights-${tag}-`));
const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
const sha = (v: Float32Array) => crypto.createHash('sha256').update(Buffer.from(v.buffer, v.byteOffset, v.byteLength)).digest('hex');

/** The error `f` throws (failing the test when it does not throw a CrossflowError). */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof CrossflowError, `a CrossflowError, not ${String(err)}`);
    return err.message;
  }
  assert.fail('no error');
}

test('round trip: metadata, tensor order, shapes and every float32 bit (NaN payloads, -0, denormals, infinities) come back', async () => {
  await initBackend();
  const dir = tmpDir('rt');
  const file = path.join(dir, 'w.bin');
  const special = new Float32Array(new Uint32Array([0x7fc00001, 0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x3f800000]).buffer);
  const a = tf.tensor2d([[1.5, -2], [3e-30, 4e30], [5, 6]]); // (3, 2)
  const scalarLike = tf.tensor1d([Math.PI]);
  const empty = tf.zeros([0, 4]);
  // 'é' makes the header's byte length differ from its character count, and leaves the data unaligned.
  const meta = { step: 7, note: 'é', nested: { xs: [1, 2] } };
  writeWeightsFile(file, meta, [['z.last', a], ['a.first', { shape: [6], values: special }], ['pi', scalarLike], ['empty', empty]]);
  assert.ok(!fs.existsSync(`${file}.tmp`), 'the temporary file is renamed into place');
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(0, 8).toString('ascii'), WEIGHTS_MAGIC);
  assert.equal(bytes.length, 12 + bytes.readUInt32LE(8) + 4 * (6 + 6 + 1 + 0));
  const wf = readWeightsFile<typeof meta>(file);
  assert.deepEqual(wf.meta, meta);
  assert.deepEqual([...wf.tensors.keys()], ['z.last', 'a.first', 'pi', 'empty'], 'written order is kept');
  assert.deepEqual(wf.tensors.get('z.last')!.shape, [3, 2]);
  assert.deepEqual(bits(wf.tensors.get('z.last')!.values), bits(a.dataSync() as Float32Array));
  assert.deepEqual(bits(wf.tensors.get('a.first')!.values), bits(special));
  assert.deepEqual(wf.tensors.get('empty')!.shape, [0, 4]);
  assert.equal(wf.tensors.get('empty')!.values.length, 0);
  // The bytes do not depend on how they were written.
  assert.ok(encodeWeightsFile(meta, [['z.last', a], ['a.first', { shape: [6], values: special }], ['pi', scalarLike], ['empty', empty]]).equals(bytes));
  const ts = weightsToTensors(wf);
  assert.deepEqual(ts['pi'].shape, [1]);
  assert.equal(ts['pi'].dataSync()[0], Math.fround(Math.PI));
  tf.dispose([a, scalarLike, empty, ...Object.values(ts)]);
  assert.throws(() => encodeWeightsFile({}, [['x', { shape: [1], values: new Float32Array(1) }], ['x', { shape: [1], values: new Float32Array(1) }]]), /tensor name 'x' is given twice/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('encoders and judges write through the same format, and their loaders read it back', async () => {
  await initBackend();
  const dir = tmpDir('kinds');
  const w = { 'e.b': tf.tensor1d([1, 2]), 'e.a': tf.tensor2d([[3, 4, 5]]) };
  const manifest = { name: 'toy', command: 'none', seed: 0, steps: 1, batchSize: 1, params: 5, trainingSeconds: 0, backend: 'cpu', createdAt: 'now', config: {}, vocabulary: [], metrics: {}, lossCurve: [] } as EncoderManifest;
  saveWeights(manifest, w, dir);
  const enc = readWeightsFile<{ kind: string; name: string }>(path.join(dir, 'toy.bin'));
  assert.deepEqual(enc.meta, { kind: 'text-encoder', name: 'toy' });
  assert.deepEqual([...enc.tensors.keys()], ['e.a', 'e.b'], 'sorted by name');
  const back = loadWeights('toy', dir);
  assert.deepEqual(back.manifest, manifest, 'the manifest is the human-readable .json, without a tensor list');
  assert.deepEqual(Array.from(back.weights['e.a'].dataSync()), [3, 4, 5]);
  const judge = { name: 'toyjudge', architecture: 'x', inputShape: [1], seed: 0, steps: 1, batchSize: 1, trainSamples: 1, trainSeconds: 0, backend: 'cpu', testAccuracy: {}, testSamples: 0, targets: {}, command: 'none', createdAt: 'now' } as JudgeManifest;
  await saveJudgeWeights(dir, judge, [w['e.a'], w['e.b']]);
  assert.deepEqual(readWeightsFile(path.join(dir, 'toyjudge.bin')).meta, { kind: 'judge', name: 'toyjudge' });
  const jw = loadJudgeWeights('toyjudge', dir);
  assert.deepEqual(jw.weights.map((t) => t.shape), [[1, 3], [2]], 'model order');
  // A file of the right format but the wrong kind is refused by name.
  fs.copyFileSync(path.join(dir, 'toyjudge.bin'), path.join(dir, 'toy.bin'));
  assert.match(errorOf(() => loadWeights('toy', dir)), /toy\.bin holds \{"kind":"judge","name":"toyjudge"\}, not text encoder 'toy's weights/);
  tf.dispose([...Object.values(w), ...Object.values(back.weights), ...jw.weights]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the committed weights load to the same tensors (sha256 of their float32 bytes) as the readers before the unified format', async () => {
  await initBackend();
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'committed-weights.sha256.json'), 'utf8')) as { files: Record<string, Record<string, string>> };
  const loaded: Record<string, Record<string, string>> = {};
  const put = (file: string, name: string, shape: number[], values: Float32Array) => ((loaded[file] ??= {})[name] = `${shape.join('x')} ${sha(values)}`);
  for (const name of ['lm', 'clip']) {
    const { weights } = loadWeights(name);
    for (const [k, t] of Object.entries(weights)) put(`datasets/encoders/${name}.bin`, k, t.shape, t.dataSync() as Float32Array);
    tf.dispose(Object.values(weights));
  }
  for (const name of ['shapes', 'mnist', 'fashion']) {
    const { weights } = loadJudgeWeights(name);
    weights.forEach((t, i) => put(`results/eval/judges/${name}.bin`, String(i), t.shape, t.dataSync() as Float32Array));
    tf.dispose(weights);
  }
  const ae = 'datasets/autoencoders/shapes32-2f9fe48d94.ckpt';
  for (const [k, e] of readCheckpoint(repoPath(...ae.split('/'))).tensors) put(ae, k, e.shape, e.values);
  assert.deepEqual(Object.keys(loaded).sort(), Object.keys(fixture.files).sort());
  for (const file of Object.keys(fixture.files)) assert.deepEqual(loaded[file], fixture.files[file], file);
  // Every committed weight file is in the one format.
  for (const file of Object.keys(fixture.files)) assert.equal(fs.readFileSync(repoPath(...file.split('/'))).subarray(0, 8).toString('ascii'), WEIGHTS_MAGIC, file);
});

test('damaged files: a CrossflowError naming the file, why, and what to do; never a JSON or typed-array error', async () => {
  await initBackend();
  const dir = tmpDir('damaged');
  const file = path.join(dir, 'w.bin');
  const t = tf.tensor1d([1, 2, 3, 4, 5]);
  writeWeightsFile(file, { name: 'x' }, [['a', t], ['b', t]]);
  tf.dispose(t);
  const good = fs.readFileSync(file);
  const headerEnd = 12 + good.readUInt32LE(8);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['cut inside the preamble', good.subarray(0, 7), /7 bytes, shorter than the 12-byte preamble/],
    ['not a weights file (a raw float32 array, the old layout)', Buffer.from(new Float32Array([1, 2, 3, 4]).buffer), /it does not start with CFCKPT01/],
    ['cut inside the header', good.subarray(0, headerEnd - 5), /the header says it is \d+ bytes long, the file ends after \d+/],
    ['cut inside the data', good.subarray(0, headerEnd + 12), /its tensors need 40 bytes of data, the file holds 12/],
    ['bytes appended', Buffer.concat([good, Buffer.alloc(4)]), /its tensors need 40 bytes of data, the file holds 44/],
  ];
  const brokenJson = Buffer.from(good);
  brokenJson.write('\u0000', 14, 'latin1');
  cases.push(['a hole in the header JSON', brokenJson, /its header is not valid JSON \(.+\)/]);
  const header = (h: object) => {
    const json = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(json.length, 0);
    return Buffer.concat([Buffer.from(WEIGHTS_MAGIC), len, json, Buffer.alloc(8)]);
  };
  cases.push(['no tensor list', header({ meta: {} }), /its header lists no tensors/]);
  cases.push(['a tensor outside the data', header({ meta: {}, tensors: [{ name: 'a', shape: [2], offset: 1 }] }), /tensor 'a' lies outside the data/]);
  cases.push(['a bad shape', header({ meta: {}, tensors: [{ name: 'a', shape: [-2], offset: 0 }] }), /tensor 'a' has no valid shape/]);
  cases.push(['a name twice', header({ meta: {}, tensors: [{ name: 'a', shape: [1], offset: 0 }, { name: 'a', shape: [1], offset: 1 }] }), /tensor 'a' is listed twice/]);
  for (const [label, bytes, why] of cases) {
    fs.writeFileSync(file, bytes);
    assert.equal(typeof parseWeightsFile(bytes), 'string', label);
    const message = errorOf(() => readWeightsFile(file, { what: "text encoder 'x' weights", fallback: () => 'Re-create it with: make x' }));
    assert.ok(message.startsWith(`text encoder 'x' weights ${file} is damaged (truncated or overwritten): `), `${label}: ${message}`);
    assert.match(message, why, label);
    assert.ok(message.endsWith('. Re-create it with: make x'), `${label}: ${message}`);
  }
  assert.equal(errorOf(() => readWeightsFile(path.join(dir, 'absent.bin'))), `no weights file at ${path.join(dir, 'absent.bin')}`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a damaged committed encoder or judge file says how to get it back", async () => {
  await initBackend();
  const dir = tmpDir('committed');
  for (const f of ['lm.json', 'lm.bin']) fs.copyFileSync(repoPath('datasets', 'encoders', f), path.join(dir, f));
  fs.truncateSync(path.join(dir, 'lm.bin'), 1000);
  const m = errorOf(() => loadWeights('lm', dir));
  assert.ok(m.startsWith(`text encoder 'lm' weights ${path.join(dir, 'lm.bin')} is damaged`), m);
  assert.match(m, /re-create it with: npx crossflow data train-encoder lm --seed 0$/);
  fs.rmSync(path.join(dir, 'lm.bin'));
  assert.match(errorOf(() => loadWeights('lm', dir)), /text encoder 'lm' has a manifest but no weights at .*lm\.bin; create them with: npx crossflow data train-encoder lm --seed 0/);
  for (const f of ['mnist.json', 'mnist.bin']) fs.copyFileSync(repoPath('results', 'eval', 'judges', f), path.join(dir, f));
  fs.truncateSync(path.join(dir, 'mnist.bin'), 20);
  assert.match(errorOf(() => loadJudgeWeights('mnist', dir)), /^judge 'mnist' weights .*mnist\.bin is damaged .*: the header says it is \d+ bytes long, the file ends after 8\. .*train it again with: npx crossflow eval train-judges --only mnist$/);
  fs.rmSync(dir, { recursive: true, force: true });
});
