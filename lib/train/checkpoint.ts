// Checkpoint files: one binary file = 8-byte magic + u32 JSON length + JSON (metadata and, per tensor,
// name/shape/offset) + float32 data. Written atomically: to `<file>.tmp`, fsync, then rename over the
// old file, so a run killed mid-write still has its last complete checkpoint.
import * as fs from 'fs';
import * as path from 'path';
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
  const parsed = parseCheckpoint<M>(fs.readFileSync(file));
  if (typeof parsed === 'string') throw damagedCheckpoint(file, parsed);
  return parsed;
}

/** The checkpoint in `buf`, or why it is not a complete one (a damaged or truncated file). */
function parseCheckpoint<M>(buf: Buffer): CheckpointFile<M> | string {
  if (buf.length < 12) return `${buf.length} bytes, shorter than the 12-byte preamble`;
  if (buf.subarray(0, 8).toString('ascii') !== MAGIC) return `it does not start with ${MAGIC}`;
  const len = buf.readUInt32LE(8);
  if (12 + len > buf.length) return `the header says it is ${len} bytes long, the file ends after ${buf.length - 12}`;
  let header: { meta: M; tensors: TensorEntry[] };
  try {
    header = JSON.parse(buf.subarray(12, 12 + len).toString('utf8')) as { meta: M; tensors: TensorEntry[] };
  } catch (err) {
    return `its header is not valid JSON (${(err as Error).message})`;
  }
  if (!header || !Array.isArray(header.tensors)) return 'its header lists no tensors';
  const start = 12 + len;
  const floats = header.tensors.reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
  if (buf.length - start !== 4 * floats) return `its tensors need ${4 * floats} bytes of data, the file holds ${buf.length - start}`;
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const e of header.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (!(e.offset >= 0 && e.offset + size <= floats)) return `tensor '${e.name}' lies outside the data`;
    tensors.set(e.name, { shape: e.shape, values: all.subarray(e.offset, e.offset + size) });
  }
  return { meta: header.meta, tensors };
}

/**
 * The error for a checkpoint that cannot be read: names the file, why, and what to fall back to. Saves
 * replace a file atomically (through `<file>.tmp`), so no older copy is kept beside it; a `<file>.tmp`
 * left by a run killed between its fsync and rename can be complete, and is then named as the way back.
 */
function damagedCheckpoint(file: string, why: string): CrossflowError {
  const base = path.basename(file);
  const dir = path.dirname(file);
  const tmp = `${file}.tmp`;
  let fallback: string;
  let tmpNote = '';
  const tmpCk = fs.existsSync(tmp) ? parseCheckpoint<{ step?: number }>(fs.readFileSync(tmp)) : null;
  if (tmpCk && typeof tmpCk !== 'string') {
    const step = typeof tmpCk.meta?.step === 'number' ? ` (step ${tmpCk.meta.step})` : '';
    fallback = `${tmp} is a complete save${step} that was never renamed into place: move it over ${base} to use it.`;
  } else {
    if (tmpCk) tmpNote = ` (${path.basename(tmp)} beside it is an unfinished save, not usable either)`;
    if (base === 'checkpoint.ckpt')
      fallback =
        `No earlier checkpoint is kept${tmpNote}: each save replaces ${base} in one rename, and bad.ckpt holds only autoguidance's weights, ` +
        `not a state to resume from. The run in ${dir} can be resumed or sampled only from an intact ${base}: restore it from a copy, ` +
        `or delete it and train again into ${dir} (or a new directory) to start the run over.`;
    else if (base === 'bad.ckpt')
      fallback =
        `It holds the under-trained weights autoguidance needs and has no copy${tmpNote}; the run's checkpoint.ckpt is a separate file. ` +
        `Delete ${file} to sample ${dir} without autoguidance (--guidance none or --cfg 1), or train the run again from scratch to rewrite it.`;
    else if (path.basename(dir) === 'autoencoders')
      fallback = `It is a cached autoencoder with no copy${tmpNote}: delete it and the next command that needs it trains and caches it again.`;
    else fallback = `No backup copy of it is kept${tmpNote}: restore it from a copy, or write it again.`;
  }
  return new CrossflowError(`checkpoint ${file} is damaged (truncated or overwritten): ${why}. ${fallback}`);
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
