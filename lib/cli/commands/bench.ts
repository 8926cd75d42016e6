// `crossflow bench <workload>`: wall-clock benchmarks. Figures are medians; compare ratios measured in one sitting.
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../backend/select';
import { measureSgemmPeak, runRefDitBench } from '../../bench/refDit';
import { checkOutputFile, invalidValue } from '../../errors';
import { info, printReport } from '../report';

export const WORKLOADS = ['ref-dit', 'sgemm'] as const;

function positiveInt(field: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${field} must be a positive integer, got '${value}'`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark workload: ${WORKLOADS.join(', ')}`)
    .argument('<workload>', WORKLOADS.join(' | '))
    .option('--json', 'print one JSON object')
    .option('--steps <n>', 'timed steps (ref-dit)', positiveInt('--steps'), 20)
    .option('--warmup <n>', 'warm-up steps (ref-dit)', positiveInt('--warmup'), 3)
    .option('--batch <n>', 'batch size (ref-dit)', positiveInt('--batch'), 32)
    .option('--profile', 'add a per-kernel time profile of one extra step')
    .option('--save <file>', 'also write the JSON result to this file (e.g. results/bench/ref-dit.json)')
    .action(async (workload: string, opts: { json?: boolean; steps: number; warmup: number; batch: number; profile?: boolean; save?: string }) => {
      if (!(WORKLOADS as readonly string[]).includes(workload)) throw invalidValue('workload', workload, WORKLOADS.join(', '));
      if (opts.save !== undefined) checkOutputFile('--save', opts.save); // before the benchmark, not after it
      const backend = await initBackend();
      info(`backend: ${backend.backend}`);
      const sgemm = backend.blasLibrary ? measureSgemmPeak() : null;
      let result: object;
      if (workload === 'sgemm') {
        if (!sgemm) throw invalidValue('backend', backend.backend, 'native (the sgemm benchmark calls OpenBLAS)');
        result = { workload, backend: backend.backend, ...sgemm };
      } else {
        info(`ref-dit: ${opts.warmup} warm-up + ${opts.steps} timed steps, batch ${opts.batch}`);
        const r = await runRefDitBench({ steps: opts.steps, warmup: opts.warmup, batch: opts.batch, profile: opts.profile });
        result = { ...r, sgemm_peak_gflops: sgemm?.gflops_median ?? null, peak_fraction: sgemm ? Math.round((r.achieved_gflops / sgemm.gflops_median) * 1000) / 1000 : null, measured_at: new Date().toISOString() };
      }
      if (opts.save) {
        fs.mkdirSync(path.dirname(opts.save), { recursive: true });
        fs.writeFileSync(opts.save, JSON.stringify(result, null, 2) + '\n');
      }
      printReport(!!opts.json, result, () => {
        const r = result as Record<string, unknown>;
        const lines = Object.entries(r).filter(([k]) => k !== 'profile' && k !== 'step_ms_all').map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
        const prof = (r.profile as { kernel: string; ms: number; calls: number; share: number }[] | undefined) ?? [];
        if (prof.length) lines.push('kernel profile (one step):', ...prof.slice(0, 15).map((p) => `  ${p.kernel.padEnd(22)} ${p.ms.toFixed(1).padStart(8)} ms ${String(p.calls).padStart(5)} calls ${(p.share * 100).toFixed(1)}%`));
        return lines.join('\n');
      });
    });
}
