// Checkpoint files (of training runs and of the cached autoencoder; read by train/, sampling/ and
// trainingData/): the weights-file format of lib/nn/weightsFile.ts (8-byte magic + u32 JSON length + JSON
// header with the run's metadata and each tensor's name/shape/offset + float32 data), written atomically: to
// `<file>.tmp`, fsync, then rename over the old file, so a run killed mid-write still has its last complete
// checkpoint. What this file adds is what a damaged checkpoint means for a run, and what to fall back to.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';
import { parseWeightsFile, readWeightsFile, writeWeightsFile, WeightsFile } from './weightsFile';

export type CheckpointFile<M> = WeightsFile<M>;

export function writeCheckpoint<M>(file: string, meta: M, tensors: Array<[string, tf.Tensor]>): void {
  writeWeightsFile(file, meta, tensors);
}

export function readCheckpoint<M>(file: string): CheckpointFile<M> {
  return readWeightsFile<M>(file, { what: 'checkpoint', fallback: checkpointFallback });
}

/**
 * What to fall back to when a checkpoint cannot be read. Saves replace a file atomically (through
 * `<file>.tmp`), so no older copy is kept beside it; a `<file>.tmp` left by a run killed between its fsync
 * and rename can be complete, and is then named as the way back.
 */
function checkpointFallback(file: string): string {
  const base = path.basename(file);
  const dir = path.dirname(file);
  const tmp = `${file}.tmp`;
  let tmpNote = '';
  const tmpCk = fs.existsSync(tmp) ? parseWeightsFile<{ step?: number }>(fs.readFileSync(tmp)) : null;
  if (tmpCk && typeof tmpCk !== 'string') {
    const step = typeof tmpCk.meta?.step === 'number' ? ` (step ${tmpCk.meta.step})` : '';
    return `${tmp} is a complete save${step} that was never renamed into place: move it over ${base} to use it.`;
  }
  if (tmpCk) tmpNote = ` (${path.basename(tmp)} beside it is an unfinished save, not usable either)`;
  if (base === 'checkpoint.ckpt')
    return (
      `No earlier checkpoint is kept${tmpNote}: each save replaces ${base} in one rename, and bad.ckpt holds only autoguidance's weights, ` +
      `not a state to resume from. The run in ${dir} can be resumed or sampled only from an intact ${base}: restore it from a copy, ` +
      `or delete it and train again into ${dir} (or a new directory) to start the run over.`
    );
  if (base === 'bad.ckpt')
    return (
      `It holds the under-trained weights autoguidance needs and has no copy${tmpNote}; the run's checkpoint.ckpt is a separate file. ` +
      `Delete ${file} to sample ${dir} without autoguidance (--guidance none or --cfg 1), or train the run again from scratch to rewrite it.`
    );
  if (path.basename(dir) === 'autoencoders')
    return `It is a cached autoencoder with no copy${tmpNote}: delete it and the next command that needs it trains and caches it again.`;
  return `No backup copy of it is kept${tmpNote}: restore it from a copy, or write it again.`;
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
