// The training loop: phases of the chosen strategy, AdamW with warm-up, EMA, per-step CSV metrics,
// atomic checkpoints, exact resume, and a hard stop on NaN/Inf that keeps the last good checkpoint.
// Run directory: config.json, metrics.csv, checkpoint.ckpt, [bad.ckpt for autoguidance], summary.json,
// [ckpt-<step>.ckpt: weights and EMA kept at each of log.keepSteps, for evaluating along training].
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { namedVariable } from '../nn/params';
import { CrossflowError } from '../errors';
import { completeConfig } from '../models/presets';
import { buildModels, Models, ParamCounts } from '../models/crossflow';
import { AdamW } from '../optim/adamw';
import type { TextEncoder } from '../text/encoder';
import { loadTextEncoder } from '../text/registry';
import { configDifferences, getPath } from '../config/overrides';
import type { TrainConfig } from '../config/schema';
import { learningRate, Phase, phasesOf, totalSteps, validateConfig } from './config';
import { assignFrom, readCheckpoint, writeCheckpoint } from '../nn/checkpoint';
import { loadOrTrainAutoencoder, loadTrainingData, TextImageData, TrainedAutoencoder } from '../trainingData/latents';
import { Ema } from './ema';
import { metricsCsvHeader, metricsCsvLine, METRICS_COLUMNS, truncateMetricsCsv } from './metricsCsv';
import { drawStep, lossTerms } from './objective';
import { yieldToEventLoop } from '../eventLoop';
import type { ProgressInfo } from './progress';

export interface TrainOptions {
  config: TrainConfig;
  out: string;
  /** Continue from out/checkpoint.ckpt when it exists (default true). */
  resume?: boolean;
  /** Stop after this global step as if killed (tests and time-boxed runs); no final checkpoint is forced. */
  stopAfter?: number;
  /**
   * Stops after the current step when aborted: that step is checkpointed, so calling train again resumes
   * from it and ends with the weights of an uninterrupted run.
   */
  signal?: AbortSignal;
  /** Also stop that way on the first SIGINT (Ctrl-C, a notebook's interrupt button); a second one acts as usual. */
  stopOnInterrupt?: boolean;
  onProgress?: (p: ProgressInfo) => void;
  log?: (msg: string) => void;
  /** Data and text encoder injection (tests); otherwise built from the config. */
  prepared?: { data: TextImageData; text: TextEncoder; autoencoder?: TrainedAutoencoder };
}

export interface CheckpointMeta {
  step: number;
  adamStep: number;
  elapsedS: number;
  config: TrainConfig;
  counts: ParamCounts;
  autoencoderFile: string | null;
  latentScale: number | null;
}

export interface TrainResult {
  out: string;
  steps: number;
  resumedFrom: number;
  seconds: number;
  counts: ParamCounts;
  lastLoss: number;
  stoppedEarly: boolean;
  autoencoder: { psnr: number; seconds: number; file: string } | null;
}

export const CSV_COLUMNS = METRICS_COLUMNS;

export function checkpointPath(out: string): string {
  return path.join(out, 'checkpoint.ckpt');
}

/** The checkpoint kept at `step` (log.keepSteps): the weights and their EMA, no optimiser state. */
export function keptCheckpointPath(out: string, step: number): string {
  return path.join(out, `ckpt-${step}.ckpt`);
}

/** The steps whose kept checkpoints a run directory holds, ascending. */
export function keptSteps(out: string): number[] {
  if (!fs.existsSync(out)) return [];
  return fs.readdirSync(out).flatMap((f) => { const m = /^ckpt-(\d+)\.ckpt$/.exec(f); return m ? [Number(m[1])] : []; }).sort((a, b) => a - b);
}

/** Weights, their EMA and (for a checkpoint to resume from) the optimiser's moments. */
function stateTensors(models: Models, ema: Ema, opt: AdamW | null): Array<[string, tf.Tensor]> {
  const out: Array<[string, tf.Tensor]> = [];
  for (const [n, v] of models.params.vars) out.push([n, v]);
  for (const [n, s] of ema.shadow) out.push([`ema/${n}`, s]);
  if (!opt) return out;
  for (const [n, m] of opt.m) out.push([`adam_m/${n}`, m]);
  for (const [n, v] of opt.v) out.push([`adam_v/${n}`, v]);
  return out;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const c = opts.config;
  validateConfig(c);
  const log = opts.log ?? (() => {});
  const out = path.resolve(opts.out);
  fs.mkdirSync(out, { recursive: true });
  const ckptFile = checkpointPath(out);
  const resume = (opts.resume ?? true) && fs.existsSync(ckptFile);
  const configFile = path.join(out, 'config.json');
  if (resume && fs.existsSync(configFile)) {
    const prev = completeConfig(JSON.parse(fs.readFileSync(configFile, 'utf8')) as TrainConfig);
    const differ = configDifferences(prev, c).filter((k) => k !== 'steps' && !k.startsWith('log.'));
    if (differ.length > 0) {
      const shown = differ.slice(0, 6).map((k) => `${k} (run: ${JSON.stringify(getPath(prev, k))}, now: ${JSON.stringify(getPath(c, k))})`).join(', ');
      throw new CrossflowError(
        `${out} holds a run with another config: ${shown}${differ.length > 6 ? `, and ${differ.length - 6} more` : ''}. ` +
          'Resuming needs the same config (only steps may grow); train into another directory to start a new run. The run there is untouched.',
      );
    }
  }
  fs.writeFileSync(configFile, JSON.stringify(c, null, 2) + '\n');

  // Data: the dataset's autoencoder (trained and cached on first use), latents, captions, text encoder.
  let trained = opts.prepared?.autoencoder ?? null;
  let data: TextImageData;
  let text: TextEncoder;
  if (opts.prepared) {
    data = opts.prepared.data;
    text = opts.prepared.text;
  } else {
    const aeStart = Date.now();
    trained = await loadOrTrainAutoencoder({ ...c.autoencoder }, 0, c.data.imageSize, log, (step, total, loss) =>
      opts.onProgress?.({ step, total, phase: 'joint', loss, flow: 0, enc: 0, kl: 0, lr: c.autoencoder.lr, elapsedS: (Date.now() - aeStart) / 1000, etaS: ((Date.now() - aeStart) / 1000 / step) * (total - step), stage: 'autoencoder' }),
    );
    data = loadTrainingData(trained, c.data.trainCount, 0, c.data.mix);
    text = await loadTextEncoder(c.text.encoder);
  }

  const models = buildModels(c, { size: data.latentSize, channels: data.latentChannels }, { tokens: text.maxTokens, dim: text.dim });
  const opt = new AdamW({ lr: c.optim.lr, beta1: c.optim.beta1, beta2: c.optim.beta2, eps: c.optim.eps, weightDecay: c.optim.weightDecay });
  const all = models.params.list();
  const ema = new Ema(all, c.emaDecay);
  const csvFile = path.join(out, 'metrics.csv');
  let start = 0;
  let elapsedBefore = 0;
  const disposeAll = () => {
    ema.dispose();
    opt.dispose();
    models.dispose();
    if (!opts.prepared) {
      text.dispose();
      trained?.ae.params.dispose();
    }
  };
  // Registered last before the try, so the finally always removes it.
  let interrupted = false;
  const onSigint = () => {
    process.removeListener('SIGINT', onSigint);
    interrupted = true;
  };
  if (opts.stopOnInterrupt) process.on('SIGINT', onSigint);
  try {
    if (resume) {
      const ck = readCheckpoint<CheckpointMeta>(ckptFile);
      assignFrom(ck, [...models.params.vars], ckptFile);
      assignFrom(ck, [...ema.shadow].map(([n, s]) => [`ema/${n}`, s]), ckptFile);
      for (const [name] of ck.tensors) {
        const m = /^adam_(m|v)\/(.*)$/.exec(name);
        if (!m) continue;
        const p = models.params.vars.get(m[2]);
        if (!p) throw new CrossflowError(`checkpoint ${ckptFile}: optimiser state for unknown parameter '${m[2]}'`);
        const map = m[1] === 'm' ? opt.m : opt.v;
        const e = ck.tensors.get(name)!;
        if (!map.has(m[2])) map.set(m[2], namedVariable(tf.zeros(p.shape), false, `${m[2]}/adam_${m[1]}`));
        tf.tidy(() => map.get(m[2])!.assign(tf.tensor(e.values, e.shape)));
      }
      opt.step = ck.meta.adamStep;
      start = ck.meta.step;
      elapsedBefore = ck.meta.elapsedS;
      truncateMetricsCsv(csvFile, start);
      log(`resuming ${out} from step ${start}`);
    } else {
      fs.writeFileSync(csvFile, metricsCsvHeader());
      for (const f of ['bad.ckpt', 'summary.json']) if (fs.existsSync(path.join(out, f))) fs.unlinkSync(path.join(out, f));
      for (const s of keptSteps(out)) fs.unlinkSync(keptCheckpointPath(out, s)); // a fresh run keeps only its own
    }
    const counts = models.counts;
    const phases = phasesOf(c);
    const total = totalSteps(c);
    const end = Math.min(total, opts.stopAfter ?? total);
    const badStep = c.guidance.mode === 'autoguidance' ? c.guidance.badStep || Math.max(1, Math.round(total / 10)) : -1;
    const keep = new Set(c.log.keepSteps ?? []);
    const meta = (step: number, elapsedS: number): CheckpointMeta => ({
      step, adamStep: opt.step, elapsedS, config: c, counts,
      autoencoderFile: trained ? path.relative(out, trained.file) : null, latentScale: trained ? trained.meta.scale : null,
    });
    const t0 = Date.now();
    let lastLoss = NaN;
    let lastSaved = start;
    let done = start;
    for (let step = start; step < end; step++) {
      const phase = phases.find((p) => step >= p.start && step < p.end)!;
      const vars = models.varsOf(phase.name === 'joint' ? 'all' : phase.name);
      const draw = drawStep(c, data, step);
      const lr = learningRate(c, step);
      let uncond = 0;
      const stats = tf.tidy(() => {
        let terms: ReturnType<typeof lossTerms> | null = null;
        const { value, grads } = tf.variableGrads(() => {
          terms = lossTerms(models, text, data, draw, phase.name);
          // variableGrads disposes everything but its result: keep the separate terms for logging.
          for (const k of [terms.flow, terms.enc, terms.kl]) tf.keep(k);
          return terms.total;
        }, vars);
        const t = terms as unknown as ReturnType<typeof lossTerms>;
        uncond = t.uncond;
        const gradNorm = tf.addN(Object.values(grads).map((g) => g.square().sum())).sqrt();
        const packed = tf.stack([value, t.flow, t.enc, t.kl, gradNorm]).dataSync();
        tf.dispose([t.flow, t.enc, t.kl]);
        if (!Array.from(packed).every(Number.isFinite)) return { packed, ok: false };
        opt.apply(vars, grads, lr);
        return { packed, ok: true };
      });
      const [loss, flow, enc, kl, gradNorm] = Array.from(stats.packed);
      if (!stats.ok)
        throw new CrossflowError(
          `training stopped at step ${step + 1} (${phase.name} phase): non-finite values (loss ${loss}, flow ${flow}, enc ${enc}, kl ${kl}, grad norm ${gradNorm}); ` +
            `the update was not applied and the last good checkpoint (step ${lastSaved}) is kept at ${ckptFile}. Lower optim.lr or raise optim.warmupSteps.`,
        );
      ema.update(all);
      lastLoss = loss;
      done = step + 1;
      const elapsedS = elapsedBefore + (Date.now() - t0) / 1000;
      fs.appendFileSync(csvFile, metricsCsvLine({ step: done, phase: phase.name, lr, loss, flow, enc, kl, gradNorm, uncond, seconds: elapsedS }));
      if (done === badStep) {
        ema.swap(all);
        writeCheckpoint(path.join(out, 'bad.ckpt'), meta(done, elapsedS), [...models.params.vars]);
        ema.swap(all);
      }
      if (done % c.log.checkpointEvery === 0 || done === total) {
        writeCheckpoint(ckptFile, meta(done, elapsedS), stateTensors(models, ema, opt));
        lastSaved = done;
      }
      // A resumed run rewrites a kept step it passes again with the same values (exact resume).
      if (keep.has(done)) writeCheckpoint(keptCheckpointPath(out, done), meta(done, elapsedS), stateTensors(models, ema, null));
      const rate = (Date.now() - t0) / 1000 / (done - start);
      opts.onProgress?.({ step: done, total, phase: phase.name, loss, flow, enc, kl, lr, elapsedS, etaS: rate * (total - done), stage: 'model' });
      await yieldToEventLoop(); // where a SIGINT handler gets to run
      if ((interrupted || opts.signal?.aborted) && done < end) {
        if (lastSaved !== done) writeCheckpoint(ckptFile, meta(done, elapsedS), stateTensors(models, ema, opt));
        lastSaved = done;
        log(`stopped at step ${done} of ${total} on request; checkpoint written: train again into the same directory to resume`);
        break;
      }
    }
    const seconds = elapsedBefore + (Date.now() - t0) / 1000;
    const result: TrainResult = {
      out, steps: done, resumedFrom: start, seconds, counts, lastLoss, stoppedEarly: done < total,
      autoencoder: trained ? { psnr: trained.meta.testPsnr, seconds: trained.meta.trainSeconds, file: trained.file } : null,
    };
    if (done === total) fs.writeFileSync(path.join(out, 'summary.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    disposeAll();
    process.removeListener('SIGINT', onSigint);
  }
}
