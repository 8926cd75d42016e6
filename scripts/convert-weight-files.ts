// One-off (issue 15): converts the committed text-encoder and judge weights from their old layouts
// (a headerless float32 .bin whose tensor list lived in the .json manifest: `weights` with name/shape/offset
// for the encoders, `weightShapes` in model order for the judges) to the one weights-file format of
// lib/nn/weightsFile.ts, drops those lists from the manifests (the .bin header now holds them), and checks
// that every tensor read back through the new loaders is bit-identical to the old layout's float32 values.
// Files already in the new format are left alone, so running it twice changes nothing.
//
//   node --import tsx scripts/convert-weight-files.ts
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { WEIGHTS_MAGIC, StoredTensor } from '../lib/nn/weightsFile';
import { loadWeights, saveWeights, ENCODERS_DIR, EncoderManifest } from '../lib/text/weights';
import { loadJudgeWeights, saveJudgeWeights, judgesDir, JudgeManifest } from '../lib/eval/judges/weights';

const isNewFormat = (file: string): boolean => fs.readFileSync(file).subarray(0, 8).toString('ascii') === WEIGHTS_MAGIC;

function legacyFloats(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** Converts, then compares every tensor read through the new loader with the old layout's values. */
async function main(): Promise<void> {
  let failures = 0;
  const check = (label: string, old: Map<string, StoredTensor>, loaded: Array<[string, { shape: number[]; values: Float32Array }]>) => {
    const bad = loaded.filter(([k, t]) => !old.has(k) || old.get(k)!.shape.join('x') !== t.shape.join('x') || !sameBits(old.get(k)!.values, t.values));
    const ok = bad.length === 0 && loaded.length === old.size;
    if (!ok) failures++;
    console.log(`${label}: ${loaded.length} tensors ${ok ? 'bit-identical' : `DIFFER (${bad.map(([k]) => k).join(', ') || 'count'})`}`);
  };

  for (const name of ['lm', 'clip']) {
    const bin = path.join(ENCODERS_DIR, `${name}.bin`);
    if (isNewFormat(bin)) {
      console.log(`${bin}: already converted`);
      continue;
    }
    const raw = JSON.parse(fs.readFileSync(path.join(ENCODERS_DIR, `${name}.json`), 'utf8')) as EncoderManifest & { weights: Array<{ name: string; shape: number[]; offset: number }> };
    const all = legacyFloats(bin);
    const old = new Map<string, StoredTensor>();
    for (const s of raw.weights) old.set(s.name, { shape: s.shape, values: all.subarray(s.offset, s.offset + s.shape.reduce((a, b) => a * b, 1)) });
    const { weights: specs, ...manifest } = raw;
    void specs;
    const tensors = Object.fromEntries([...old].map(([k, t]) => [k, tf.tensor(t.values, t.shape)]));
    saveWeights(manifest, tensors);
    tf.dispose(Object.values(tensors));
    const back = loadWeights(name);
    check(bin, old, Object.entries(back.weights).map(([k, t]) => [k, { shape: t.shape, values: t.dataSync() as Float32Array }]));
    tf.dispose(Object.values(back.weights));
  }

  for (const name of ['shapes', 'mnist', 'fashion']) {
    const dir = judgesDir();
    const bin = path.join(dir, `${name}.bin`);
    if (isNewFormat(bin)) {
      console.log(`${bin}: already converted`);
      continue;
    }
    const raw = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as JudgeManifest & { weightShapes: number[][] };
    const all = legacyFloats(bin);
    const old = new Map<string, StoredTensor>();
    let off = 0;
    raw.weightShapes.forEach((shape, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      old.set(`w${i}`, { shape, values: all.subarray(off, off + n) });
      off += n;
    });
    if (off !== all.length) throw new Error(`${bin}: ${all.length} floats, the manifest lists ${off}`);
    const { weightShapes, ...manifest } = raw;
    void weightShapes;
    const tensors = [...old.values()].map((t) => tf.tensor(t.values, t.shape));
    await saveJudgeWeights(dir, manifest, tensors);
    tf.dispose(tensors);
    const back = loadJudgeWeights(name, dir);
    check(bin, old, back.weights.map((t, i) => [`w${i}`, { shape: t.shape, values: t.dataSync() as Float32Array }]));
    tf.dispose(back.weights);
  }
  if (failures) {
    console.error(`${failures} file(s) differ: restore them with git before anything else`);
    process.exit(1);
  }
}

void main();
