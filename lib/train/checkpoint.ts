// Checkpoint files: one binary file = 8-byte magic + u32 JSON length + JSON (metadata and, per tensor,
// name/shape/offset) + float32 data. Written atomically: to `<file>.tmp`, fsync, then rename over the
// old file, so a run killed mid-write still has its last complete checkpoint.
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';

const MAGIC = 'CFCKPT01';

export interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

export interface CheckpointFile<M> {
  meta: M;
  tensors: Map<string, { shape: number[]; values: Float32Array }>;
}

export function writeCheckpoint<M>(file: string, meta: M, tensors: Array<[string, tf.Tensor]>): void {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    entries.push({ name, shape: t.shape, offset });
    offset += t.size;
  }
  const data = new Float32Array(offset);
  tensors.forEach(([, t], i) => data.set(t.dataSync() as Float32Array, entries[i].offset));
  const header = Buffer.from(JSON.stringify({ meta, tensors: entries }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, Buffer.from(MAGIC, 'ascii'));
    fs.writeSync(fd, len);
    fs.writeSync(fd, header);
    fs.writeSync(fd, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function readCheckpoint<M>(file: string): CheckpointFile<M> {
  if (!fs.existsSync(file)) throw new CrossflowError(`no checkpoint at ${file}`);
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, 8).toString('ascii') !== MAGIC) throw new CrossflowError(`${file} is not a crossflow checkpoint`);
  const len = buf.readUInt32LE(8);
  const { meta, tensors } = JSON.parse(buf.subarray(12, 12 + len).toString('utf8')) as { meta: M; tensors: TensorEntry[] };
  const start = 12 + len;
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const e of tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    out.set(e.name, { shape: e.shape, values: all.subarray(e.offset, e.offset + size) });
  }
  return { meta, tensors: out };
}

/** Assigns stored values to variables by name; a missing or mis-shaped entry is an error. */
export function assignFrom(ck: CheckpointFile<unknown>, vars: Array<[string, tf.Variable]>, file: string): void {
  for (const [name, v] of vars) {
    const e = ck.tensors.get(name);
    if (!e) throw new CrossflowError(`checkpoint ${file} has no tensor '${name}' (was it written by another config?)`);
    if (e.shape.join('x') !== v.shape.join('x')) throw new CrossflowError(`checkpoint ${file}: '${name}' has shape ${e.shape.join('x')}, the model needs ${v.shape.join('x')}`);
    tf.tidy(() => v.assign(tf.tensor(e.values, e.shape)));
  }
}
