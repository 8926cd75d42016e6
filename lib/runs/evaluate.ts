// Evaluating a trained run, read by the project's instruments (lib/eval/). evaluateRun is the one
// evaluation every study row gets: sample the run at the study's guidance weight, then FID (judge
// features, against the real test split), CLIP score and R-precision on test captions, the GenEval-style
// tasks on their fixed prompt set, and single-object accuracy on seen and held-out colour-shape pairs.
// evaluateRunDir is `crossflow eval --run DIR`: the run's own guidance, with its samples written out.
import * as fs from 'fs';
import * as path from 'path';
import { generateShapes } from '../data/shapes/index';
import { invalidValue } from '../errors';
import { writePngRgb } from '../eval/folder';
import { genevalPrompts, GENEVAL_TASKS } from '../eval/geneval/prompts';
import { genevalScores } from '../eval/geneval/score';
import { judgeShapes, loadJudge } from '../eval/judges/index';
import { evaluateShapesImages } from '../eval/shapesEval';
import type { Solver } from '../flow/solver';
import { generateYielding, LoadedRun, loadRun } from '../sampling/generate';
import { singleObjectRow } from './singleObject';

/** How many samples an evaluation draws (experiments/scale.ts sets them per run profile). */
export interface EvalSizes {
  /** Test captions sampled for FID, CLIP score, R-precision and the caption-derived GenEval tasks. */
  fidCount: number;
  /** Real test images behind the FID reference statistics. */
  realCount: number;
  /** Images per GenEval-style prompt. */
  genevalSamples: number;
  /** GenEval-style prompts per task (default 24; fewer only for smoke tests: an absent field keeps evaluation hashes). */
  genevalPerTask?: number;
  /** Images per single-object prompt: seen pairs, held-out pairs (fewer prompts, so more each). */
  perPromptSeen: number;
  perPromptHeldout: number;
  /** Steps of the sampler (Euler unless evaluateRun is given another solver). */
  sampleSteps: number;
}

/** Every number a study reports for one run; all but `fid` are higher-is-better fractions. */
export interface RunMetrics {
  fid: number;
  clip_score: number | null;
  r_precision: number | null;
  geneval_overall: number;
  geneval_single_object: number;
  geneval_two_objects: number;
  geneval_counting: number;
  geneval_colors: number;
  geneval_position: number;
  geneval_attribute_binding: number;
  single_seen: number;
  single_heldout: number;
}

export type MetricName = keyof RunMetrics;

export const METRICS: ReadonlyArray<{ name: MetricName; label: string; higherIsBetter: boolean }> = [
  { name: 'fid', label: 'FID', higherIsBetter: false },
  { name: 'clip_score', label: 'CLIP score', higherIsBetter: true },
  { name: 'r_precision', label: 'R-precision', higherIsBetter: true },
  { name: 'geneval_overall', label: 'GenEval overall', higherIsBetter: true },
  ...GENEVAL_TASKS.map((t) => ({ name: `geneval_${t}` as MetricName, label: `GenEval ${t.replace(/_/g, ' ')}`, higherIsBetter: true })),
  { name: 'single_seen', label: 'single object, seen pairs', higherIsBetter: true },
  { name: 'single_heldout', label: 'single object, held-out pairs', higherIsBetter: true },
];

export interface RunEvaluation {
  metrics: RunMetrics;
  /** Guidance the samples were drawn with, as the sampler resolved it. */
  guidance: string;
  cfg: number;
  fid_name: string;
  n: { fid: number; geneval: number; single_seen: number; single_heldout: number };
}

/** Evaluates a loaded run at guidance weight `cfg` with the sampling seed `seed`, sampling with `solver` (default Euler). */
export async function evaluateRun(run: LoadedRun, sizes: EvalSizes, cfg: number, seed = 0, solver: Solver = 'euler'): Promise<RunEvaluation> {
  const steps = sizes.sampleSteps;
  const scenes = generateShapes({ split: 'test', count: sizes.fidCount, seed: 0, size: run.config.data.imageSize });
  const captions = scenes.map((s) => s.caption);
  const g = await generateYielding(run, captions, { seed, cfg, steps, solver });
  const shapes = await evaluateShapesImages(g.images.map((im, i) => ({ ...im, caption: captions[i] })), { realCount: sizes.realCount });
  const prompts = genevalPrompts({ perTask: sizes.genevalPerTask }).flatMap((p) => Array.from({ length: sizes.genevalSamples }, () => p));
  const ge = await generateYielding(run, prompts.map((p) => p.prompt), { seed: seed + 1, cfg, steps, solver });
  const { model } = await loadJudge('shapes');
  const { objects } = await judgeShapes(model, ge.images);
  const geneval = genevalScores(prompts, objects, ge.images[0].width);
  const seen = await singleObjectRow(run, 'seen', sizes.perPromptSeen, { seed: seed + 2, cfg, steps, solver });
  const heldout = await singleObjectRow(run, 'heldout', sizes.perPromptHeldout, { seed: seed + 3, cfg, steps, solver });
  const metrics: RunMetrics = {
    fid: shapes.fid, clip_score: shapes.clip_score, r_precision: shapes.r_precision, geneval_overall: geneval.overall,
    geneval_single_object: geneval.single_object, geneval_two_objects: geneval.two_objects, geneval_counting: geneval.counting,
    geneval_colors: geneval.colors, geneval_position: geneval.position, geneval_attribute_binding: geneval.attribute_binding,
    single_seen: seen.accuracy, single_heldout: heldout.accuracy,
  };
  return { metrics, guidance: g.guidance, cfg: g.cfg, fid_name: shapes.fid_name, n: { fid: captions.length, geneval: prompts.length, single_seen: seen.n, single_heldout: heldout.n } };
}

/**
 * `--run DIR`: samples from a trained text-to-image run (EMA weights, the run's guidance) and scores
 * it: `count` images for the captions of the first `count` real test scenes (FID-count against the
 * real test split, CLIP score, R-precision, caption match), and the fixed GenEval-style prompt set
 * (24 prompts per task x `genevalSamples` images) for `geneval`. The samples are written to
 * DIR/eval-samples/ (samples.jsonl + PNGs) so they can be looked at and re-scored with --images.
 * (`crossflow eval --run DIR` prints what it returns.)
 */
export async function evaluateRunDir(
  dir: string,
  opts: { count: number; genevalSamples: number; realCount?: number; seed?: number; cfg?: number; log?: (message: string) => void },
): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((message: string) => process.stderr.write(message + '\n'));
  const run = await loadRun(dir);
  try {
    if (run.config.data.dataset !== 'shapes') throw invalidValue('run dataset', run.config.data.dataset, 'shapes (text-to-image runs)');
    const t0 = Date.now();
    const scenes = generateShapes({ split: 'test', count: opts.count, seed: 0, size: run.config.data.imageSize });
    const captions = scenes.map((s) => s.caption);
    log(`sampling ${captions.length} test captions from ${dir} (step ${run.step})`);
    const g = await generateYielding(run, captions, { seed: opts.seed ?? 0, cfg: opts.cfg });
    const prompts = genevalPrompts();
    const expanded = prompts.flatMap((p) => Array.from({ length: opts.genevalSamples }, () => p));
    log(`sampling ${expanded.length} GenEval-style prompt images`);
    const ge = await generateYielding(run, expanded.map((p) => p.prompt), { seed: (opts.seed ?? 0) + 1, cfg: opts.cfg });
    const sampleSeconds = (Date.now() - t0) / 1000;
    const out = path.join(dir, 'eval-samples');
    fs.mkdirSync(out, { recursive: true });
    const lines = g.images.map((im, i) => {
      writePngRgb(path.join(out, `${i}.png`), im.rgb, im.width, im.height);
      return JSON.stringify({ index: i, file: `${i}.png`, caption: captions[i], dataset: 'shapes', step: run.step, cfg: g.cfg, guidance: g.guidance, steps: g.steps });
    });
    fs.writeFileSync(path.join(out, 'samples.jsonl'), lines.join('\n') + '\n');
    const r = await evaluateShapesImages(g.images.map((im, i) => ({ ...im, caption: captions[i] })), { realCount: opts.realCount });
    const { model } = await loadJudge('shapes');
    const { objects } = await judgeShapes(model, ge.images);
    const geneval = genevalScores(expanded, objects, ge.images[0].width);
    return {
      run: path.resolve(dir), task: 'text-to-image', dataset: 'shapes', step: run.step, guidance: g.guidance, cfg: g.cfg, sample_steps: g.steps,
      fid: r.fid, fid_n: r.fid_n, fid_name: r.fid_name, fid_reference_n: r.fid_reference_n,
      clip_score: r.clip_score, r_precision: r.r_precision, geneval, geneval_images: expanded.length,
      geneval_captions: r.geneval, caption_match: r.caption_match, notes: r.notes,
      samples: out, sample_seconds: sampleSeconds,
    };
  } finally {
    run.dispose();
  }
}
