// `crossflow bench <workload>`: wall-clock benchmarks. Figures are medians; compare ratios measured in one sitting.
//   ref-dit  the agreed training step (lib/bench/refDit.ts); --backend all runs it on every installed backend
//   presets  one training step of every preset (and the quickstart recipe) on every installed backend,
//            interleaved; the step times also go to .cache/backend-timings.json, where the backend
//            selector reads them (so a later `crossflow train --preset X` starts on the faster one)
//   sampling images per second of the sampler (quickstart model, 50 Euler steps) with and without guidance
//   sgemm    OpenBLAS's matrix-product ceiling (native only)
//   gemms    the ref-dit step's matrix products by shape: time inside the step against alone (native only)
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { BACKEND_CHOICES, BackendChoice, initBackend, installedTensorflow, measureBackends, saveMeasurements } from '../../backend/select';
import { RefDitResult, runRefDitBench } from '../../bench/refDit';
import { GemmsResult, measureSgemmPeak, runGemmsBench } from '../../bench/gemms';
import { runSamplingBench, SamplingBenchResult } from '../../bench/sampling';
import { trainStepWorkload } from '../../bench/trainStep';
import { checkOutputFile, invalidValue } from '../../errors';
import { PRESET_NAMES, presetConfig } from '../../models/presets';
import { quickstartConfig } from '../../notebooks/quickstart';
import { info, printReport } from '../report';
import { positiveInt } from '../parse';

export const WORKLOADS = ['ref-dit', 'presets', 'sampling', 'sgemm', 'gemms'] as const;
/** The quickstart notebook's training step (`small` + QUICKSTART_RECIPE), a row of `bench presets`. */
export const QUICKSTART_ROW = 'small+quickstart';

/** The backends a model's step is compared on: the installed TensorFlow build (GPU first) and native. */
export function benchBackends(): BackendChoice[] {
  const installed = installedTensorflow();
  const tensorflow: BackendChoice[] = installed['tfjs-node-gpu'] ? ['tfjs-node-gpu'] : installed['tfjs-node'] ? ['tfjs-node'] : [];
  return [...tensorflow, 'native'];
}

function parseBackends(value: string | undefined): BackendChoice[] | null {
  if (value === undefined) return null;
  if (value === 'all') return benchBackends();
  if (!(BACKEND_CHOICES as readonly string[]).includes(value)) throw invalidValue('--backend', value, `all, ${BACKEND_CHOICES.join(', ')}`);
  return [value as BackendChoice];
}

interface PresetRow {
  preset: string;
  label: string;
  workload: string;
  ms: Record<string, number>;
  fastest: string | null;
  failed: Record<string, string>;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark workload: ${WORKLOADS.join(', ')}`)
    .argument('<workload>', WORKLOADS.join(' | '))
    .option('--json', 'print one JSON object')
    .option('--backend <name>', `ref-dit/presets: 'all' (every installed backend) or one of ${BACKEND_CHOICES.join(', ')}; default: ref-dit on the selected backend, presets on all`)
    .option('--steps <n>', 'timed steps (ref-dit; presets: interleaved rounds, default 5; sampling: Euler steps per image, default 50)', positiveInt('--steps'))
    .option('--warmup <n>', 'warm-up steps (default 3)', positiveInt('--warmup'), 3)
    .option('--batch <n>', 'batch size (ref-dit: default 32; sampling: images per batch, default 64)', positiveInt('--batch'))
    .option('--images <n>', 'sampling: images per timed pass (default 256)', positiveInt('--images'), 256)
    .option('--presets <names>', `presets: comma-separated subset of ${[...PRESET_NAMES, QUICKSTART_ROW].join(', ')}`)
    .option('--profile', 'ref-dit: add a per-kernel time profile of one extra step')
    .option('--save <file>', 'also write the JSON result to this file (e.g. results/bench/ref-dit.json)')
    .action(async (workload: string, opts: { json?: boolean; backend?: string; steps?: number; warmup: number; batch?: number; images: number; presets?: string; profile?: boolean; save?: string }) => {
      if (!(WORKLOADS as readonly string[]).includes(workload)) throw invalidValue('workload', workload, WORKLOADS.join(', '));
      if (opts.save !== undefined) checkOutputFile('--save', opts.save); // before the benchmark, not after it
      const backends = parseBackends(opts.backend);
      let result: object;
      let human: () => string;
      if (workload === 'presets') {
        const names = opts.presets ? opts.presets.split(',').map((s) => s.trim()) : [...PRESET_NAMES, QUICKSTART_ROW];
        for (const n of names) if (n !== QUICKSTART_ROW && !PRESET_NAMES.includes(n)) throw invalidValue('--presets', n, [...PRESET_NAMES, QUICKSTART_ROW].join(', '));
        const on = backends ?? benchBackends();
        const rounds = opts.steps ?? 5;
        info(`presets: ${names.length} training steps on ${on.join(', ')}: ${opts.warmup} warm-up + ${rounds} interleaved rounds each`);
        const rows: PresetRow[] = [];
        for (const name of names) {
          const config = name === QUICKSTART_ROW ? quickstartConfig('small', []) : presetConfig(name);
          const w = trainStepWorkload(config, name === QUICKSTART_ROW ? `small quickstart-recipe training step (batch ${config.batchSize})` : undefined);
          const { results, failed } = await measureBackends(on, w, { warmup: opts.warmup, rounds });
          saveMeasurements(w, results, 'bench');
          const ms = Object.fromEntries(Object.entries(results).map(([b, m]) => [b, m.ms]));
          const ranked = Object.entries(ms).sort((a, b) => a[1] - b[1]);
          rows.push({ preset: name, label: w.label, workload: w.key, ms, fastest: ranked[0]?.[0] ?? null, failed });
          info(`  ${name.padEnd(18)} ${ranked.map(([b, v]) => `${b} ${v.toFixed(1)} ms`).join(', ')}${Object.keys(failed).length ? `; failed: ${JSON.stringify(failed)}` : ''}`);
        }
        result = { workload, backends: on, warmup: opts.warmup, rounds, rows, measured_at: new Date().toISOString() };
        human = () => {
          const head = `${'preset'.padEnd(18)} ${'batch'.padStart(5)} ${on.map((b) => b.padStart(12)).join(' ')}  fastest`;
          const lines = rows.map((r) => {
            const batch = /batch (\d+)/.exec(r.label)?.[1] ?? '';
            const cells = on.map((b) => (r.ms[b] === undefined ? 'failed' : `${r.ms[b].toFixed(1)} ms`).padStart(12)).join(' ');
            return `${r.preset.padEnd(18)} ${batch.padStart(5)} ${cells}  ${r.fastest ?? '-'}`;
          });
          return [`median ms per training step (${opts.warmup} warm-up + ${rounds} interleaved rounds; saved to .cache/backend-timings.json for the backend selector)`, head, ...lines].join('\n');
        };
      } else if (workload === 'sampling') {
        const on = backends ?? [(await initBackend()).backend];
        const runs: SamplingBenchResult[] = [];
        for (const b of on) {
          await initBackend(b);
          info(`sampling on ${b}: ${opts.images} images, ${opts.steps ?? 50} Euler steps, batch ${opts.batch ?? 64}, with and without guidance`);
          runs.push(await runSamplingBench({ images: opts.images, steps: opts.steps ?? 50, batch: opts.batch ?? 64 }));
        }
        result = { workload, runs, measured_at: new Date().toISOString() };
        human = () => runs.map((r) => `${r.backend.padEnd(10)} guided (${r.guided.guidance}, w=${r.guided.cfg}) ${r.guided.images_per_second} images/s   unguided ${r.unguided.images_per_second} images/s   (${r.images} images x ${r.steps} steps, batch ${r.batch})`).join('\n');
      } else if (workload === 'gemms') {
        const backend = await initBackend(backends ? backends[0] : 'native');
        if (backend.backend !== 'native') throw invalidValue('--backend', backend.backend, 'native (the gemms benchmark records OpenBLAS calls)');
        info(`gemms: ref-dit, ${opts.warmup} warm-up + ${opts.steps ?? 5} recorded steps, batch ${opts.batch ?? 32}; then each shape alone`);
        const r: GemmsResult = await runGemmsBench({ steps: opts.steps ?? 5, warmup: opts.warmup, batch: opts.batch ?? 32 });
        result = { ...r, measured_at: new Date().toISOString() };
        human = () => [
          `step ${r.step_ms_median} ms; its products ${r.gemm_in_step_ms} ms inside the step, ${r.gemm_alone_ms} ms alone (${r.gflop_per_step} GFLOP); one-row sums (bias gradients) ${r.reductions_in_step_ms} ms`,
          `${'op'.padEnd(3)} ${'m x n x k'.padEnd(16)} ${'calls'.padStart(5)} ${'in step'.padStart(9)} ${'alone'.padStart(9)} ${'GFLOP/s alone'.padStart(14)}`,
          ...r.shapes.map((s) => `${(s.transA ? 'T' : 'N') + (s.transB ? 'T' : 'N')}  ${`${s.m}x${s.n}x${s.k}`.padEnd(16)} ${String(s.calls).padStart(5)} ${s.in_step_ms.toFixed(3).padStart(9)} ${s.alone_ms.toFixed(3).padStart(9)} ${String(s.alone_gflops).padStart(14)}`),
        ].join('\n');
      } else if (workload === 'ref-dit' && backends && backends.length > 1) {
        const runs: RefDitResult[] = [];
        for (const b of backends) {
          await initBackend(b);
          info(`ref-dit on ${b}: ${opts.warmup} warm-up + ${opts.steps ?? 20} timed steps, batch ${opts.batch ?? 32}`);
          runs.push(await runRefDitBench({ steps: opts.steps ?? 20, warmup: opts.warmup, batch: opts.batch ?? 32 }));
        }
        result = { workload, runs, measured_at: new Date().toISOString() };
        human = () => runs.map((r) => `${r.backend.padEnd(14)} step_ms_median ${r.step_ms_median.toFixed(1)}  min ${r.step_ms_min.toFixed(1)}  ${r.achieved_gflops} GFLOP/s  loss ${r.loss_first.toFixed(4)} -> ${r.loss_last.toFixed(4)}`).join('\n');
      } else {
        const backend = await initBackend(backends ? backends[0] : undefined);
        info(`backend: ${backend.backend}`);
        const sgemm = backend.blasLibrary ? measureSgemmPeak() : null;
        if (workload === 'sgemm') {
          if (!sgemm) throw invalidValue('backend', backend.backend, 'native (the sgemm benchmark calls OpenBLAS)');
          result = { workload, backend: backend.backend, ...sgemm };
        } else {
          info(`ref-dit: ${opts.warmup} warm-up + ${opts.steps ?? 20} timed steps, batch ${opts.batch ?? 32}`);
          const r = await runRefDitBench({ steps: opts.steps ?? 20, warmup: opts.warmup, batch: opts.batch ?? 32, profile: opts.profile });
          result = { ...r, sgemm_peak_gflops: sgemm?.gflops_median ?? null, peak_fraction: sgemm ? Math.round((r.achieved_gflops / sgemm.gflops_median) * 1000) / 1000 : null, measured_at: new Date().toISOString() };
        }
        human = () => {
          const r = result as Record<string, unknown>;
          const lines = Object.entries(r).filter(([k]) => k !== 'profile' && k !== 'step_ms_all').map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
          const prof = (r.profile as { kernel: string; ms: number; calls: number; share: number }[] | undefined) ?? [];
          if (prof.length) lines.push('kernel profile (one step):', ...prof.slice(0, 15).map((p) => `  ${p.kernel.padEnd(22)} ${p.ms.toFixed(1).padStart(8)} ms ${String(p.calls).padStart(5)} calls ${(p.share * 100).toFixed(1)}%`));
          return lines.join('\n');
        };
      }
      // every saved or printed result names the command that repeats it
      result = { command: ['npx crossflow bench', ...process.argv.slice(3)].join(' '), ...result };
      if (opts.save) {
        fs.mkdirSync(path.dirname(opts.save), { recursive: true });
        fs.writeFileSync(opts.save, JSON.stringify(result, null, 2) + '\n');
      }
      printReport(!!opts.json, result, human);
    });
}
