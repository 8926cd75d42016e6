// `crossflow train --preset <name> --out DIR [--seed S] [--steps N] [--set key=value ...] [--json]`
// and `crossflow train-autoencoder` (the dataset's cached autoencoder). Logic: lib/train/.
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { BackendReport, initBackend } from '../../backend/select';
import { trainStepWorkload } from '../../bench/trainStep';
import { checkOutputDir, invalidValue } from '../../errors';
import { PRESET_NAMES, PRESETS, presetConfig } from '../../models/presets';
import { applyOverrides } from '../../config/overrides';
import type { TrainConfig } from '../../config/schema';
import { autoencoderFile, loadOrTrainAutoencoder } from '../../trainingData/latents';
import { cliProgressBar } from '../../train/progress';
import { train } from '../../train/trainer';
import { info, printReport } from '../report';

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isInteger(x) || x < min) throw invalidValue(name, value, `an integer >= ${min}`);
  return x;
}

/**
 * The backend measured fastest for this model's step (measured once per model shape and machine;
 * CROSSFLOW_BACKEND overrides), except that a run being resumed stays on the backend it trained on
 * (recorded in DIR/backend.json): the same ops on another backend round differently, and a resumed run
 * is meant to end with exactly the weights of an uninterrupted one.
 */
async function chooseBackend(out: string, resume: boolean, config: TrainConfig): Promise<BackendReport> {
  const record = path.join(out, 'backend.json');
  let pinned: string | null = null;
  if (resume && fs.existsSync(path.join(out, 'checkpoint.ckpt')) && fs.existsSync(record) && !process.env.CROSSFLOW_BACKEND) {
    pinned = (JSON.parse(fs.readFileSync(record, 'utf8')) as { backend: string }).backend;
  }
  let backend: BackendReport | null = null;
  if (pinned) {
    try {
      backend = await initBackend({ backend: pinned });
      backend = { ...backend, reason: `the backend this run trained on (${record}), so that resuming is exact` };
    } catch (err) {
      info(`this run trained on ${pinned}, which cannot start here (${(err as Error).message}); resuming on another backend: the weights will differ from an uninterrupted run's in the last bits`);
    }
  }
  backend ??= await initBackend({ workload: trainStepWorkload(config) });
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(record, JSON.stringify({ backend: backend.backend, chosenBy: backend.chosenBy, reason: backend.reason }, null, 2) + '\n');
  return backend;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a CrossFlow model or the flow-matching baseline on Shapes (resumes DIR if it holds a checkpoint)')
    .requiredOption('--preset <name>', `model preset: ${PRESET_NAMES.join(', ')}`)
    .requiredOption('--out <dir>', 'run directory (config.json, metrics.csv, checkpoint.ckpt, summary.json)')
    .option('--seed <n>', 'seed of initialisation, batches and noise', '0')
    .option('--steps <n>', 'training steps (flow phase)')
    .option('--set <key=value...>', 'override config fields, e.g. --set ve.variant=plain enc.kind=tt-recon')
    .option('--fresh', 'start over even if DIR holds a checkpoint')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (o: { preset: string; out: string; seed: string; steps?: string; set?: string[]; fresh?: boolean; json?: boolean }) => {
      checkOutputDir('--out', o.out);
      const sets = [...(o.set ?? [])];
      const seed = intOption('--seed', o.seed, 0)!;
      sets.unshift(`seed=${seed}`);
      const steps = intOption('--steps', o.steps, 1);
      if (steps !== undefined) sets.unshift(`steps=${steps}`);
      const config = applyOverrides(presetConfig(o.preset), sets);
      const backend = await chooseBackend(o.out, !o.fresh, config);
      info(`backend ${backend.backend} (${backend.reason}); preset ${o.preset} (${PRESETS[o.preset].family}): ${PRESETS[o.preset].description}`);
      const bar = cliProgressBar();
      // Ctrl-C checkpoints the current step and ends the command; the same command resumes (a second Ctrl-C kills).
      const result = await train({ config, out: o.out, resume: !o.fresh, onProgress: bar.update, log: info, stopOnInterrupt: true }).finally(() => bar.stop());
      if (result.stoppedEarly) process.exitCode = 130;
      printReport(!!o.json, { ...result, preset: o.preset, family: config.family, backend: backend.backend }, () =>
        [
          result.stoppedEarly
            ? `interrupted: ${o.preset} stopped at step ${result.steps} after ${result.seconds.toFixed(1)} s; its checkpoint is written, so the same command resumes`
            : `trained ${o.preset} for ${result.steps} steps in ${result.seconds.toFixed(1)} s (resumed from ${result.resumedFrom}); last loss ${result.lastLoss.toFixed(4)}`,
          `parameters: model ${result.counts.model} (flow ${result.counts.flow} + Text VE ${result.counts.ve}); training-only aux ${result.counts.aux}`,
          result.autoencoder ? `autoencoder: test PSNR ${result.autoencoder.psnr.toFixed(2)} dB (${result.autoencoder.file})` : '',
          `run: ${result.out}`,
        ].filter(Boolean).join('\n'),
      );
    });

  program
    .command('train-autoencoder')
    .description("train (or load) the dataset's KL autoencoder and cache it under datasets/autoencoders/")
    .option('--dataset <name>', 'dataset (shapes)', 'shapes')
    .option('--preset <name>', 'take the autoencoder settings of this preset', 'small')
    .option('--seed <n>', 'autoencoder seed', '0')
    .option('--steps <n>', 'training steps')
    .option('--kind <kind>', 'patch (per-patch MLP, default) or conv')
    .option('--channels <n>', 'base width')
    .option('--batch <n>', 'batch size')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (o: { dataset: string; preset: string; seed: string; kind?: string; steps?: string; channels?: string; batch?: string; json?: boolean }) => {
      if (o.dataset !== 'shapes') throw invalidValue('--dataset', o.dataset, 'shapes');
      const c = presetConfig(o.preset);
      const s = { ...c.autoencoder };
      s.steps = intOption('--steps', o.steps, 1) ?? s.steps;
      if (o.kind !== undefined && o.kind !== 'patch' && o.kind !== 'conv') throw invalidValue('--kind', o.kind, 'patch, conv');
      if (o.kind) s.kind = o.kind as 'patch' | 'conv';
      s.channels = intOption('--channels', o.channels, 4) ?? s.channels;
      s.batchSize = intOption('--batch', o.batch, 2) ?? s.batchSize;
      const seed = intOption('--seed', o.seed, 0)!;
      await initBackend();
      const bar = cliProgressBar();
      const t = await loadOrTrainAutoencoder(s, seed, c.data.imageSize, info, (step, total, loss) =>
        bar.update({ step, total, loss, phase: 'joint', flow: 0, enc: 0, kl: 0, lr: s.lr, elapsedS: 0, etaS: NaN, stage: 'autoencoder' }),
      ).finally(() => bar.stop());
      printReport(!!o.json, { file: autoencoderFile(s, seed, c.data.imageSize), ...t.meta }, () => `autoencoder ${t.file}: test PSNR ${t.meta.testPsnr.toFixed(2)} dB on ${t.meta.testCount} images; scale ${t.meta.scale.toFixed(4)}; trained in ${t.meta.trainSeconds.toFixed(0)} s`);
    });
}
