// Small named-weight files for the frozen encoders: `<name>.json` (manifest: how the weights were
// made, config, vocabulary, and each tensor's name/shape/offset) next to `<name>.bin` (float32,
// little-endian, concatenated). Committed under datasets/encoders/ so tests and CI never retrain.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';
import { repoPath } from '../paths';

export const ENCODERS_DIR = repoPath('datasets', 'encoders');

export interface WeightSpec {
  name: string;
  shape: number[];
  /** Offset in float32 elements into the .bin file. */
  offset: number;
}

export interface EncoderManifest {
  name: string;
  /** Exact command that re-creates these files. */
  command: string;
  seed: number;
  steps: number;
  batchSize: number;
  params: number;
  /** Wall-clock seconds of the training loop (the machine may have been shared: see loadAverage). */
  trainingSeconds: number;
  /** CPU seconds of this process during training (all threads) and the 1-minute load average before/after. */
  cpuSeconds?: number;
  loadAverage?: [number, number];
  backend: string;
  createdAt: string;
  config: Record<string, number | string>;
  /** The tokenizer vocabulary the embedding rows follow (specials first). */
  vocabulary: string[];
  /** Held-out numbers measured right after training (e.g. masked-word accuracy, retrieval). */
  metrics: Record<string, number>;
  /** Training loss every few steps, for the notebook's curves. */
  lossCurve: Array<[number, number]>;
  weights: WeightSpec[];
}

export function manifestPath(name: string, dir = ENCODERS_DIR): string {
  return path.join(dir, `${name}.json`);
}

export function saveWeights(manifest: Omit<EncoderManifest, 'weights'>, weights: Record<string, tf.Tensor>, dir = ENCODERS_DIR): EncoderManifest {
  fs.mkdirSync(dir, { recursive: true });
  const specs: WeightSpec[] = [];
  let offset = 0;
  const names = Object.keys(weights).sort();
  for (const name of names) {
    specs.push({ name, shape: weights[name].shape, offset });
    offset += weights[name].size;
  }
  const buffer = new Float32Array(offset);
  for (const s of specs) buffer.set(weights[s.name].dataSync() as Float32Array, s.offset);
  const full: EncoderManifest = { ...manifest, weights: specs };
  fs.writeFileSync(path.join(dir, `${manifest.name}.bin`), Buffer.from(buffer.buffer));
  fs.writeFileSync(manifestPath(manifest.name, dir), JSON.stringify(full, null, 1) + '\n');
  return full;
}

export function readManifest(name: string, dir = ENCODERS_DIR): EncoderManifest {
  const file = manifestPath(name, dir);
  if (!fs.existsSync(file))
    throw new CrossflowError(`no trained weights for text encoder '${name}' at ${file}; create them with: npx crossflow data train-encoder ${name} --seed 0`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as EncoderManifest;
}

/** Loads the manifest and its tensors (as plain tensors; callers keep them frozen). */
export function loadWeights(name: string, dir = ENCODERS_DIR): { manifest: EncoderManifest; weights: Record<string, tf.Tensor> } {
  const manifest = readManifest(name, dir);
  const bytes = fs.readFileSync(path.join(dir, `${name}.bin`));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const weights: Record<string, tf.Tensor> = {};
  for (const s of manifest.weights) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    weights[s.name] = tf.tensor(all.subarray(s.offset, s.offset + size), s.shape);
  }
  return { manifest, weights };
}
