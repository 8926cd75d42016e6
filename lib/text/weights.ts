// The frozen encoders' files: `<name>.json`, a human-readable manifest (how the weights were made, config,
// vocabulary, metrics, loss curve), next to `<name>.bin`, a weights file (lib/nn/weightsFile.ts, the format
// checkpoints and judges use too: a JSON header with each tensor's name and shape, then float32 data).
// Committed under datasets/encoders/ so tests and CI never retrain.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';
import { readWeightsFile, weightsToTensors, writeWeightsFile, WeightsFile } from '../nn/weightsFile';
import { repoPath } from '../paths';

export const ENCODERS_DIR = repoPath('datasets', 'encoders');

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
}

/** The header metadata of an encoder's `.bin` weights file. */
export interface EncoderWeightsMeta {
  kind: 'text-encoder';
  name: string;
}

export function manifestPath(name: string, dir = ENCODERS_DIR): string {
  return path.join(dir, `${name}.json`);
}

export function weightsPath(name: string, dir = ENCODERS_DIR): string {
  return path.join(dir, `${name}.bin`);
}

/** Writes `<name>.bin` (tensors sorted by name) and `<name>.json`. */
export function saveWeights(manifest: EncoderManifest, weights: Record<string, tf.Tensor>, dir = ENCODERS_DIR): EncoderManifest {
  fs.mkdirSync(dir, { recursive: true });
  const meta: EncoderWeightsMeta = { kind: 'text-encoder', name: manifest.name };
  writeWeightsFile(weightsPath(manifest.name, dir), meta, Object.keys(weights).sort().map((k) => [k, weights[k]] as [string, tf.Tensor]));
  fs.writeFileSync(manifestPath(manifest.name, dir), JSON.stringify(manifest, null, 1) + '\n');
  return manifest;
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
  const file = weightsFile(name, dir);
  return { manifest, weights: weightsToTensors(file) };
}

/** The encoder's weights file, checked to be this encoder's. */
function weightsFile(name: string, dir: string): WeightsFile<EncoderWeightsMeta> {
  const retrain = `npx crossflow data train-encoder ${name} --seed 0`;
  const file = readWeightsFile<EncoderWeightsMeta>(weightsPath(name, dir), {
    what: `text encoder '${name}' weights`,
    missing: (f) => `text encoder '${name}' has a manifest but no weights at ${f}; create them with: ${retrain}`,
    fallback: () => `The committed copy can be restored with git; or re-create it with: ${retrain}`,
  });
  if (file.meta?.kind !== 'text-encoder' || file.meta.name !== name)
    throw new CrossflowError(`${weightsPath(name, dir)} holds ${JSON.stringify(file.meta)}, not text encoder '${name}'s weights; re-create it with: ${retrain}`);
  return file;
}

/**
 * Loss bookkeeping of the encoders' training loops: the curve every 25 steps (and at the last) for
 * the manifest, a log line every `logEvery` steps, and the wall clock from construction.
 */
export class TrainingLog {
  readonly lossCurve: Array<[number, number]> = [];
  private readonly t0 = Date.now();

  constructor(
    private readonly label: string,
    private readonly steps: number,
    private readonly logEvery: number,
    private readonly log: (msg: string) => void,
  ) {}

  /** Records the step's loss (reading it only when it is kept) and disposes it. */
  record(step: number, loss: tf.Scalar): void {
    if (step % 25 === 0 || step === this.steps - 1) {
      const v = loss.dataSync()[0];
      this.lossCurve.push([step, Math.round(v * 1e4) / 1e4]);
      if (step % this.logEvery === 0) this.log(`${this.label} step ${step}/${this.steps} loss ${v.toFixed(4)} (${((Date.now() - this.t0) / 1000).toFixed(1)} s)`);
    }
    loss.dispose();
  }

  /** The trained variables as weights, with the seconds since construction and the loss curve. */
  finish(vars: Record<string, tf.Variable>, params: (w: Record<string, tf.Tensor>) => number): TrainedWeights {
    const seconds = (Date.now() - this.t0) / 1000;
    const weights: Record<string, tf.Tensor> = { ...vars };
    return { weights, seconds, lossCurve: this.lossCurve, params: params(weights) };
  }
}

/** What a training loop returns: the weights, their count, wall-clock seconds and the loss curve. */
export interface TrainedWeights {
  weights: Record<string, tf.Tensor>;
  params: number;
  seconds: number;
  lossCurve: Array<[number, number]>;
}

/** The cost of a training run beside its result: CPU seconds of this process, and the 1-minute load
 * average before and after (the machine may be shared, which stretches wall-clock time). */
export function measureTraining<R extends TrainedWeights>(train: () => R): R & { cpuSeconds: number; loadAverage: [number, number] } {
  const cpu0 = process.cpuUsage();
  const load0 = os.loadavg()[0];
  const run = train();
  const cpu = process.cpuUsage(cpu0);
  const load1 = os.loadavg()[0];
  const round2 = (x: number) => Math.round(x * 100) / 100;
  return { ...run, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10, loadAverage: [round2(load0), round2(load1)] };
}

/** Writes a trained encoder with the manifest fields every encoder records, then frees its weights. */
export function saveTrainedEncoder(
  o: {
    name: string;
    /** The re-train command; overrides of the defaults are appended. */
    command: string;
    overrides: object;
    seed: number;
    config: Record<string, number | string> & { steps: number; batchSize: number };
    run: TrainedWeights & { cpuSeconds: number; loadAverage: [number, number] };
    backend: string;
    vocabulary: string[];
    metrics: Record<string, number>;
  },
  dir?: string,
): EncoderManifest {
  const manifest = saveWeights(
    {
      name: o.name,
      command: o.command + (Object.keys(o.overrides).length ? ` (overrides ${JSON.stringify(o.overrides)})` : ''),
      seed: o.seed,
      steps: o.config.steps,
      batchSize: o.config.batchSize,
      params: o.run.params,
      trainingSeconds: Math.round(o.run.seconds * 10) / 10,
      cpuSeconds: o.run.cpuSeconds,
      loadAverage: o.run.loadAverage,
      backend: o.backend,
      createdAt: new Date().toISOString(),
      config: { ...o.config },
      vocabulary: o.vocabulary,
      metrics: { ...o.metrics, finalLoss: o.run.lossCurve[o.run.lossCurve.length - 1][1] },
      lossCurve: o.run.lossCurve,
    },
    o.run.weights,
    dir,
  );
  Object.values(o.run.weights).forEach((t) => t.dispose());
  return manifest;
}
