// The one file format for stored weights: training checkpoints (lib/nn/checkpoint.ts), the frozen
// text encoders (datasets/encoders/*.bin, lib/text/weights.ts) and the judges (results/eval/judges/*.bin,
// lib/eval/judges/weights.ts) all read and write through here.
//
//   bytes 0-7    magic 'CFCKPT01' (ASCII)
//   bytes 8-11   u32 little-endian: length L of the JSON header in bytes
//   bytes 12..   header, UTF-8 JSON: { meta, tensors: [{ name, shape, offset }] } (offset in float32 elements)
//   then         every tensor's float32 little-endian values, concatenated
//
// The header says what the file holds (meta: a checkpoint's step and config, an encoder's or judge's name),
// so a file can be read without any other file. Writes are atomic: to `<file>.tmp`, fsync, then a rename
// over the old file, so a process killed mid-write leaves the last complete file in place.
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';

export const WEIGHTS_MAGIC = 'CFCKPT01';
const PREAMBLE = 12;

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements into the data section. */
  offset: number;
}

export interface StoredTensor {
  shape: number[];
  values: Float32Array;
}

export interface WeightsFile<M> {
  meta: M;
  /** In file order (the order they were written). */
  tensors: Map<string, StoredTensor>;
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const isStored = (t: tf.Tensor | StoredTensor): t is StoredTensor => (t as StoredTensor).values instanceof Float32Array;

/** The bytes of a weights file holding `meta` and `tensors` (in the given order; names must be distinct). */
export function encodeWeightsFile<M>(meta: M, tensors: Array<[string, tf.Tensor | StoredTensor]>): Buffer {
  const entries: TensorEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const [name, t] of tensors) {
    if (seen.has(name)) throw new CrossflowError(`weights file: tensor name '${name}' is given twice`);
    seen.add(name);
    entries.push({ name, shape: [...t.shape], offset });
    offset += sizeOf(t.shape);
  }
  const data = new Float32Array(offset);
  tensors.forEach(([, t], i) => data.set(isStored(t) ? t.values : (t.dataSync() as Float32Array), entries[i].offset));
  const header = Buffer.from(JSON.stringify({ meta, tensors: entries }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  return Buffer.concat([Buffer.from(WEIGHTS_MAGIC, 'ascii'), len, header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Writes a weights file atomically (through `<file>.tmp`, fsync, rename). */
export function writeWeightsFile<M>(file: string, meta: M, tensors: Array<[string, tf.Tensor | StoredTensor]>): void {
  const bytes = encodeWeightsFile(meta, tensors);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** The weights file in `buf`, or why it is not a complete one (a damaged, truncated or foreign file). */
export function parseWeightsFile<M>(buf: Buffer): WeightsFile<M> | string {
  if (buf.length < PREAMBLE) return `${buf.length} bytes, shorter than the ${PREAMBLE}-byte preamble`;
  if (buf.subarray(0, 8).toString('ascii') !== WEIGHTS_MAGIC) return `it does not start with ${WEIGHTS_MAGIC}`;
  const len = buf.readUInt32LE(8);
  if (PREAMBLE + len > buf.length) return `the header says it is ${len} bytes long, the file ends after ${buf.length - PREAMBLE}`;
  let header: { meta: M; tensors: TensorEntry[] };
  try {
    header = JSON.parse(buf.subarray(PREAMBLE, PREAMBLE + len).toString('utf8')) as { meta: M; tensors: TensorEntry[] };
  } catch (err) {
    return `its header is not valid JSON (${(err as Error).message})`;
  }
  if (!header || !Array.isArray(header.tensors)) return 'its header lists no tensors';
  for (const e of header.tensors) {
    if (!e || typeof e.name !== 'string') return 'its header has a tensor without a name';
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) return `tensor '${e.name}' has no valid shape`;
  }
  const start = PREAMBLE + len;
  const floats = header.tensors.reduce((n, e) => n + sizeOf(e.shape), 0);
  if (buf.length - start !== 4 * floats) return `its tensors need ${4 * floats} bytes of data, the file holds ${buf.length - start}`;
  // A copy: the data section need not be 4-byte aligned within the file's buffer.
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const tensors = new Map<string, StoredTensor>();
  for (const e of header.tensors) {
    const size = sizeOf(e.shape);
    if (!(Number.isInteger(e.offset) && e.offset >= 0 && e.offset + size <= floats)) return `tensor '${e.name}' lies outside the data`;
    if (tensors.has(e.name)) return `tensor '${e.name}' is listed twice`;
    tensors.set(e.name, { shape: e.shape, values: all.subarray(e.offset, e.offset + size) });
  }
  return { meta: header.meta, tensors };
}

export interface ReadWeightsOptions {
  /** What the file is, for messages: 'checkpoint', "text encoder 'lm'", "judge 'shapes'". Default 'weights file'. */
  what?: string;
  /** The message for a missing file (default: "no <what> at <file>"). */
  missing?: (file: string) => string;
  /** What to do about a damaged file, appended to the error (default: restore it from a copy). */
  fallback?: (file: string) => string;
}

/**
 * Reads a weights file. A missing file, or one that is damaged (truncated, overwritten, not a weights
 * file at all), is a CrossflowError naming the file, why, and what to fall back to.
 */
export function readWeightsFile<M>(file: string, opts: ReadWeightsOptions = {}): WeightsFile<M> {
  const what = opts.what ?? 'weights file';
  if (!fs.existsSync(file)) throw new CrossflowError(opts.missing ? opts.missing(file) : `no ${what} at ${file}`);
  const parsed = parseWeightsFile<M>(fs.readFileSync(file));
  if (typeof parsed === 'string') {
    const fallback = opts.fallback ? opts.fallback(file) : 'No backup copy of it is kept: restore it from a copy, or write it again.';
    throw new CrossflowError(`${what} ${file} is damaged (truncated or overwritten): ${parsed}. ${fallback}`);
  }
  return parsed;
}

/** The stored tensors as tf tensors, by name (the caller owns and disposes them). */
export function weightsToTensors(wf: WeightsFile<unknown>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, e] of wf.tensors) out[name] = tf.tensor(e.values, e.shape);
  return out;
}
