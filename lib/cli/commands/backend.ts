// `crossflow backend [--preset NAME [--set k=v ...]] [--remeasure] [--json]`: which TensorFlow.js backend runs
// here and why. With a preset, the choice a training run of it gets: the measured step times of each
// installed backend (from .cache/backend-timings.json, or measured now), fastest first.
import { Command } from 'commander';
import { applyOverrides } from '../../config/overrides';
import { BackendChoice, backendFingerprint, initBackend } from '../../backend/select';
import { machineLoad, readTimings, TimingEntry, timingsFile } from '../../backend/timings';
import { trainStepWorkload } from '../../bench/trainStep';
import { PRESET_NAMES, presetConfig } from '../../models/presets';
import { printReport } from '../report';

export function register(program: Command): void {
  program
    .command('backend')
    .description('choose the TensorFlow.js backend (for a preset: by measured step time; CROSSFLOW_BACKEND overrides) and say why')
    .option('--preset <name>', `the model at hand: ${PRESET_NAMES.join(', ')}`)
    .option('--set <key=value...>', 'config overrides of that preset (as for crossflow train)')
    .option('--remeasure', 'measure again even when .cache/backend-timings.json has the answer')
    .option('--json', 'print one JSON object')
    .action(async (opts: { preset?: string; set?: string[]; remeasure?: boolean; json?: boolean }) => {
      const workload = opts.preset ? trainStepWorkload(applyOverrides(presetConfig(opts.preset), opts.set ?? [])) : undefined;
      const r = await initBackend({ workload, remeasure: opts.remeasure });
      printReport(!!opts.json, r, () => {
        const lines = [
          `backend: ${r.backend} (tfjs name '${r.tfjsBackend}')`,
          `why (${r.chosenBy}): ${r.reason}`,
        ];
        if (r.timings) {
          lines.push(`measured ${r.timings.label} (median ms per step):`);
          for (const [b, ms] of Object.entries(r.timings.ms).sort((a, b) => a[1] - b[1])) lines.push(`  ${b.padEnd(14)} ${ms.toFixed(1).padStart(9)} ms`);
        }
        lines.push(
          Object.keys(r.installed).length ? 'TensorFlow builds:' : 'TensorFlow builds: none (bash scripts/setup-tensorflow.sh builds tfjs-node from the tensorflow-cpu wheel; --gpu: tfjs-node-gpu)',
          ...Object.entries(r.installed).map(([k, v]) => `  ${k} ${v}`),
          'versions:',
          ...Object.entries(r.versions).map(([k, v]) => `  ${k} ${v}`),
          r.blasLibrary ? `BLAS: ${r.blasLibrary}, ${r.blasThreads} thread(s)` : 'BLAS: not used',
          ...(r.fusedKernels ? [`fused kernels: ${r.fusedKernels}`] : []),
          ...Object.entries(r.skipped).map(([k, v]) => `not taken: ${k}: ${v}`),
        );
        if (!opts.preset) {
          // Only what the selector would read now: this build and this load (busy or quiet); older builds' and
          // the other load's entries stay on file but no longer decide.
          const entries = readTimings();
          const current = new Map<string, string>();
          const fingerprintNow = (backend: string): string => {
            if (!current.has(backend)) current.set(backend, backendFingerprint(backend as BackendChoice));
            return current.get(backend)!;
          };
          const usable = entries.filter((e) => e.fingerprint === fingerprintNow(e.backend));
          const known = new Map<string, Map<string, TimingEntry>>();
          for (const e of usable) {
            if (!known.has(e.label)) known.set(e.label, new Map());
            const byBackend = known.get(e.label)!;
            const prev = byBackend.get(e.backend);
            if (!prev || prev.measured_at < e.measured_at) byBackend.set(e.backend, e);
          }
          if (known.size) {
            lines.push(`measured step times on file for this build and a ${machineLoad().busy ? 'busy' : 'quiet'} machine (${timingsFile()}; --preset NAME picks by them):`);
            for (const [label, byBackend] of known)
              lines.push(`  ${label}: ${[...byBackend.values()].sort((a, b) => a.ms - b.ms).map((e) => `${e.backend} ${e.ms.toFixed(1)} ms`).join(', ')}`);
          }
          if (entries.length > usable.length) lines.push(`  (${entries.length - usable.length} other entries on file are from other builds or the other load, and are not used)`);
        }
        return lines.join('\n');
      });
    });
}
