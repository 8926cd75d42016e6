// Timing pilot of the scaling study (lib/experiments/studies/scaling.ts records what it measured and the
// scale chosen from it). For each preset: N training steps of the study's config with the real trainer
// (seconds a step over steps 20..N), then the seconds an image takes at 50 guided Euler steps (64 test
// captions, after a warm-up batch); for the first preset also one evaluation at Table 3's sizes with
// 1 sampling step (its fixed cost: judges, FID features, CLIP). Runs in .scratch/pilot/ (git-ignored).
//   OPENBLAS_NUM_THREADS=1 node --import tsx scripts/scaling-pilot.ts xs,fm-xs,small,fm-small,base,fm-base 120
// One BLAS thread, as each of a sweep's two jobs has. Other work on the machine slows every number: note
// the load average printed with each line, and compare presets measured at similar loads.
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../lib/backend/select';
import { generateShapes } from '../lib/data/shapes/index';
import { planRun } from '../lib/experiments/plan';
import { studyByName } from '../lib/experiments/studies/index';
import { applyOverrides } from '../lib/config/overrides';
import { repoPath } from '../lib/paths';
import { evaluateRun } from '../lib/runs/evaluate';
import { generate, loadRun } from '../lib/sampling/generate';
import { readMetricsCsv } from '../lib/train/metricsCsv';
import { train } from '../lib/train/trainer';

async function main(): Promise<void> {
  const presets = (process.argv[2] ?? 'xs,fm-xs,small,fm-small,base,fm-base').split(',');
  const steps = Number(process.argv[3] ?? 120);
  const out = repoPath('.scratch', 'pilot');
  const be = await initBackend();
  process.stderr.write(`backend ${be.backend}, ${be.blasThreads} BLAS thread(s)\n`);
  const study = studyByName('scaling');
  const dirs = { results: path.join(out, 'results'), runs: path.join(out, 'runs') };
  for (const preset of presets) {
    const row = study.rows.find((r) => r.preset === preset);
    if (!row) throw new Error(`${preset} is not a preset of the scaling study's rows`);
    // The study's config at the small profile, cut to `steps` (and no kept checkpoints).
    const planned = planRun(study, row, 0, 'small', dirs).config;
    delete planned.log.keepSteps;
    const c = applyOverrides(planned, [`steps=${steps}`, `log.checkpointEvery=${steps}`]);
    const dir = path.join(out, preset);
    fs.rmSync(dir, { recursive: true, force: true });
    const r = await train({ config: c, out: dir, resume: false });
    const m = readMetricsCsv(path.join(dir, 'metrics.csv'));
    const n = m.step.length;
    const sPerStep = (m.seconds[n - 1] - m.seconds[19]) / (m.step[n - 1] - m.step[19]);
    const run = await loadRun(dir);
    const captions = generateShapes({ split: 'test', count: 64, seed: 0, size: 32 }).map((s) => s.caption);
    generate(run, captions.slice(0, 8), { cfg: 3, steps: 2 }); // warm-up
    const t0 = Date.now();
    generate(run, captions, { cfg: 3, steps: 50 });
    const sPerImage = (Date.now() - t0) / 1000 / captions.length;
    let evalAtOneStep: number | null = null;
    if (preset === presets[0]) {
      const t1 = Date.now();
      await evaluateRun(run, { fidCount: 1000, realCount: 5000, genevalSamples: 2, perPromptSeen: 8, perPromptHeldout: 32, sampleSteps: 1 }, 3, 0);
      evalAtOneStep = (Date.now() - t1) / 1000;
    }
    run.dispose();
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    console.log(JSON.stringify({ preset, params: r.counts.model, steps, s_per_step: sPerStep, s_per_image_50_guided: sPerImage, eval_at_1_step_s: evalAtOneStep, load }));
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
