// The one evaluation every study row gets: sample the run at the study's guidance weight, then FID
// (judge features, against the real test split), CLIP score and R-precision on test captions, the
// GenEval-style tasks on their fixed prompt set, and single-object accuracy on seen and held-out
// colour-shape pairs, all read by the project's instruments (lib/eval/).
import { generateShapes } from '../data/shapes';
import { genevalPrompts, GENEVAL_TASKS } from '../eval/geneval/prompts';
import { genevalScores } from '../eval/geneval/score';
import { judgeShapes, loadJudge } from '../eval/judges';
import { evaluateShapesImages } from '../eval/shapesEval';
import { generate, LoadedRun } from '../sampling/generate';
import { singleObjectRow } from '../train/evaluate';
import type { EvalSizes } from './scale';

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

/** Evaluates a loaded run at guidance weight `cfg` with the sampling seed `seed`. */
export async function evaluateRun(run: LoadedRun, sizes: EvalSizes, cfg: number, seed = 0): Promise<RunEvaluation> {
  const steps = sizes.sampleSteps;
  const scenes = generateShapes({ split: 'test', count: sizes.fidCount, seed: 0, size: run.config.data.imageSize });
  const captions = scenes.map((s) => s.caption);
  const g = generate(run, captions, { seed, cfg, steps });
  const shapes = await evaluateShapesImages(g.images.map((im, i) => ({ ...im, caption: captions[i] })), { realCount: sizes.realCount });
  const prompts = genevalPrompts().flatMap((p) => Array.from({ length: sizes.genevalSamples }, () => p));
  const ge = generate(run, prompts.map((p) => p.prompt), { seed: seed + 1, cfg, steps });
  const { model } = await loadJudge('shapes');
  const { objects } = await judgeShapes(model, ge.images);
  const geneval = genevalScores(prompts, objects, ge.images[0].width);
  const seen = await singleObjectRow(run, 'seen', sizes.perPromptSeen, { seed: seed + 2, cfg, steps });
  const heldout = await singleObjectRow(run, 'heldout', sizes.perPromptHeldout, { seed: seed + 3, cfg, steps });
  const metrics: RunMetrics = {
    fid: shapes.fid, clip_score: shapes.clip_score, r_precision: shapes.r_precision, geneval_overall: geneval.overall,
    geneval_single_object: geneval.single_object, geneval_two_objects: geneval.two_objects, geneval_counting: geneval.counting,
    geneval_colors: geneval.colors, geneval_position: geneval.position, geneval_attribute_binding: geneval.attribute_binding,
    single_seen: seen.accuracy, single_heldout: heldout.accuracy,
  };
  return { metrics, guidance: g.guidance, cfg: g.cfg, fid_name: shapes.fid_name, n: { fid: captions.length, geneval: prompts.length, single_seen: seen.n, single_heldout: heldout.n } };
}
