// `crossflow eval`: the evaluation suite.
//   crossflow eval --images DIR [--count N] [--json]   score a folder of samples (samples.jsonl + PNGs)
//   crossflow eval --run DIR [--count N] [--json]      sample from a trained run, then score (see evaluateRun)
//   crossflow eval judges [--json]                     the judges' accuracy on the real test splits
//   crossflow eval ladder [--count N] [--json]         the FID sanity ladder on real Shapes data
//   crossflow eval bench [--count N] [--save FILE]        time eval --images on N real images
//   crossflow eval train-judges [--only shapes,mnist,fashion] [--steps N]
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import * as os from 'os';
import { generateShapes } from '../../data/shapes';
import { info, printReport } from '../report';
import { checkOutputDir, checkOutputFile, CrossflowError, invalidValue } from '../../errors';
import { initBackend } from '../../backend/select';
import { readImageFolder, readSamplesJsonl, imageFileOf, FolderLine, writePngRgb, readPngRgb } from '../../eval/folder';
import { evaluateShapesImages, fidSanityLadder, captionAttributeAccuracy, shapesFid } from '../../eval/shapesEval';
import { depthMetrics } from '../../eval/depth';
import { psnr } from '../../eval/image/psnr';
import { ssim } from '../../eval/image/ssim';
import { evaluateDigitImages, labelOfCaption, rgbToGray } from '../../eval/digitsEval';
import { scoreCaptions } from '../../eval/captions';
import { parseCaption } from '../../data/shapes/captions';
import { MnistDataset } from '../../data/mnist';
import { trainJudges, parseJudgeNames } from '../../eval/judges/train';
import { judgesReport } from '../../eval/judgesReport';
import { loadRun, generate } from '../../sampling/generate';
import { genevalPrompts } from '../../eval/geneval/prompts';
import { genevalScores } from '../../eval/geneval/score';
import { loadJudge, judgeShapes } from '../../eval/judges';

function positiveInt(field: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${field} must be a positive integer, got '${value}'`);
    return n;
  };
}

const DATASETS = ['shapes', 'mnist', 'fashion'] as const;
type EvalDataset = (typeof DATASETS)[number];

/** The dataset of a folder: a `dataset` field, else the captions' language. */
export function inferDataset(lines: FolderLine[]): EvalDataset {
  const named = lines.find((l) => typeof l.dataset === 'string')?.dataset as string | undefined;
  if (named) {
    if (!(DATASETS as readonly string[]).includes(named)) throw invalidValue('dataset', named, DATASETS.join(', '));
    return named as EvalDataset;
  }
  const captions = lines.map((l) => String(l.caption ?? '')).filter(Boolean).slice(0, 50);
  if (captions.length && captions.every((c) => labelOfCaption('mnist', c) >= 0)) return 'mnist';
  if (captions.length && captions.every((c) => labelOfCaption('fashion', c) >= 0)) return 'fashion';
  if (captions.length && captions.every((c) => { try { parseCaption(c); return true; } catch { return false; } })) return 'shapes';
  throw new CrossflowError("cannot tell the dataset of the folder: add a 'dataset' field (shapes, mnist, fashion) to samples.jsonl");
}

/** Scores a sample folder with the metrics that apply to what it holds. */
export async function evaluateFolder(dir: string, opts: { count?: number; realCount?: number } = {}): Promise<Record<string, unknown>> {
  const lines = readSamplesJsonl(dir);
  const report: Record<string, unknown> = { source: path.resolve(dir) };
  // Captioning folders: generated captions with references.
  const capLines = lines.filter((l) => typeof (l.prediction ?? l.generated) === 'string' && Array.isArray(l.references ?? l.captions));
  if (capLines.length) {
    const chosen = opts.count ? capLines.slice(0, opts.count) : capLines;
    const preds = chosen.map((l) => String(l.prediction ?? l.generated));
    const refs = chosen.map((l) => (l.references ?? l.captions) as string[]);
    const s = scoreCaptions(preds, refs);
    Object.assign(report, { task: 'captioning', n: s.count, bleu1: s.bleu1, bleu4: s.bleu4, meteor: s.meteor, meteor_variant: 'exact-match METEOR 1.5 parameters', rouge_l: s.rouge_l, cider: s.cider });
    const withAttrs = chosen.filter((l) => l.attributes);
    if (withAttrs.length === chosen.length) {
      report.caption_attributes = captionAttributeAccuracy(preds, chosen.map((l) => l.attributes as never));
    }
    return report;
  }
  // Depth folders: predicted and true depth maps as raw little-endian float32 files (H*W values).
  const depthLines = lines.filter((l) => typeof l.depth_file === 'string' && typeof l.target_depth_file === 'string');
  if (depthLines.length) {
    const chosen = opts.count ? depthLines.slice(0, opts.count) : depthLines;
    const read = (f: string) => {
      const b = fs.readFileSync(path.resolve(dir, f));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const per = chosen.map((l) => depthMetrics(read(l.depth_file as string), read(l.target_depth_file as string)));
    const mean = (k: 'absrel' | 'rmse' | 'delta1' | 'delta2' | 'delta3') => per.reduce((a, m) => a + m[k], 0) / per.length;
    Object.assign(report, { task: 'depth', n: per.length, absrel: mean('absrel'), rmse: mean('rmse'), delta1: mean('delta1'), delta2: mean('delta2'), delta3: mean('delta3'), averaging: 'per image, then mean' });
    return report;
  }
  // Super-resolution folders: each output PNG with its high-resolution target PNG.
  const srLines = lines.filter((l) => imageFileOf(l) && typeof l.target === 'string');
  if (srLines.length) {
    const chosen = opts.count ? srLines.slice(0, opts.count) : srLines;
    let p = 0, q = 0, finite = 0;
    const outputs = [];
    for (const l of chosen) {
      const a = await readPngRgb(path.resolve(dir, imageFileOf(l) as string));
      const b = await readPngRgb(path.resolve(dir, l.target as string));
      if (a.width !== b.width || a.height !== b.height) throw new CrossflowError(`super-resolution output ${imageFileOf(l)} is ${a.width}x${a.height}, target ${b.width}x${b.height}`);
      const v = psnr(a.rgb, b.rgb, 255);
      if (Number.isFinite(v)) { p += v; finite++; }
      q += ssim(a.rgb, b.rgb, a.height, a.width, 3);
      outputs.push({ ...a, caption: String(l.caption ?? '') });
    }
    Object.assign(report, { task: 'super-resolution', n: chosen.length, psnr: finite ? p / finite : Infinity, ssim: q / chosen.length });
    const dataset = typeof lines[0].dataset === 'string' ? (lines[0].dataset as string) : null;
    if (dataset === 'mnist' || dataset === 'fashion') {
      const r = await evaluateDigitImages(dataset, outputs.map(rgbToGray), outputs.map((o) => o.caption));
      Object.assign(report, { fid: r.fid, fid_n: r.fid_n, fid_name: r.fid_name, fid_reference_n: r.fid_reference_n });
    } else if (dataset === 'shapes') {
      const r = await shapesFid(outputs, opts.realCount);
      Object.assign(report, { fid: r.fid, fid_n: r.fid_n, fid_name: r.name, fid_reference_n: r.reference_n });
    }
    return report;
  }
  if (!lines.some((l) => imageFileOf(l))) throw new CrossflowError(`${dir}/samples.jsonl has neither image files nor generated captions`);
  const dataset = inferDataset(lines);
  const images = await readImageFolder(dir, opts.count);
  info(`${images.length} images from ${dir} (${dataset})`);
  report.dataset = dataset;
  report.task = 'text-to-image';
  if (dataset === 'shapes') {
    const r = await evaluateShapesImages(images, { realCount: opts.realCount });
    Object.assign(report, {
      fid: r.fid, fid_n: r.fid_n, fid_name: r.fid_name, fid_reference_n: r.fid_reference_n,
      clip_score: r.clip_score, r_precision: r.r_precision, geneval: r.geneval, caption_match: r.caption_match,
      notes: r.notes, seconds: r.seconds,
    });
  } else {
    const r = await evaluateDigitImages(dataset as MnistDataset, images.map(rgbToGray), images.map((i) => i.caption));
    Object.assign(report, r);
  }
  return report;
}

/**
 * `--run DIR`: samples from a trained text-to-image run (EMA weights, the run's guidance) and scores
 * it: `count` images for the captions of the first `count` real test scenes (FID-count against the
 * real test split, CLIP score, R-precision, caption match), and the fixed GenEval-style prompt set
 * (24 prompts per task x `genevalSamples` images) for `geneval`. The samples are written to
 * DIR/eval-samples/ (samples.jsonl + PNGs) so they can be looked at and re-scored with --images.
 */
export async function evaluateRun(dir: string, opts: { count: number; genevalSamples: number; realCount?: number; seed?: number }): Promise<Record<string, unknown>> {
  const run = await loadRun(dir);
  try {
    if (run.config.data.dataset !== 'shapes') throw invalidValue('run dataset', run.config.data.dataset, 'shapes (text-to-image runs)');
    const t0 = Date.now();
    const scenes = generateShapes({ split: 'test', count: opts.count, seed: 0, size: run.config.data.imageSize });
    const captions = scenes.map((s) => s.caption);
    info(`sampling ${captions.length} test captions from ${dir} (step ${run.step})`);
    const g = generate(run, captions, { seed: opts.seed ?? 0 });
    const prompts = genevalPrompts();
    const expanded = prompts.flatMap((p) => Array.from({ length: opts.genevalSamples }, () => p));
    info(`sampling ${expanded.length} GenEval-style prompt images`);
    const ge = generate(run, expanded.map((p) => p.prompt), { seed: (opts.seed ?? 0) + 1 });
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

export function register(program: Command): void {
  // `eval` has options (--count, --json) that its subcommands also take. Commander hands options
  // that follow a subcommand to the parent unless every level parses positionally; the root
  // program has no options of its own, so this changes nothing for other commands.
  program.enablePositionalOptions();
  const evalCmd = program
    .command('eval')
    .description('evaluate samples: FID on judge features, CLIP score, GenEval-style scores, caption metrics; or the instruments themselves')
    .option('--images <dir>', 'score a folder written by crossflow sample / data export (samples.jsonl + PNGs)')
    .option('--run <dir>', 'score a trained run (its samples folder, sampling first when a sampler is available)')
    .option('--count <n>', 'number of samples to score', positiveInt('--count'))
    .option('--real <n>', 'real test images for the FID reference (Shapes, default 5000)', positiveInt('--real'))
    .option('--geneval-samples <n>', '--run: images per GenEval-style prompt (default 4)', positiveInt('--geneval-samples'))
    .option('--seed <n>', '--run: seed of the source latents (default 0)', (v: string) => Number(v))
    .option('--json', 'print one JSON object')
    // Subcommands have their own --json: parent options only before the subcommand name.
    .enablePositionalOptions()
    .action(async (opts: { images?: string; run?: string; count?: number; real?: number; genevalSamples?: number; seed?: number; json?: boolean }) => {
      if (!opts.images === !opts.run) throw new CrossflowError('give exactly one of --images DIR or --run DIR (or a subcommand: judges, ladder, train-judges)');
      const backend = await initBackend();
      info(`backend: ${backend.backend}`);
      const t0 = Date.now();
      const report = opts.images
        ? await evaluateFolder(opts.images, { count: opts.count, realCount: opts.real })
        : await evaluateRun(opts.run as string, { count: opts.count ?? 1000, genevalSamples: opts.genevalSamples ?? 4, realCount: opts.real, seed: opts.seed });
      report.eval_seconds = (Date.now() - t0) / 1000;
      printReport(!!opts.json, report, () => Object.entries(report).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n'));
    });

  evalCmd
    .command('judges')
    .description("the judges' accuracy on the real test splits (and confusion matrices)")
    .option('--count <n>', 'Shapes test images (default 2000)', positiveInt('--count'))
    .option('--json', 'print one JSON object')
    .action(async (opts: { count?: number; json?: boolean }) => {
      const report = await judgesReport({ shapesCount: opts.count });
      printReport(!!opts.json, report, () => JSON.stringify(report, null, 2));
    });

  evalCmd
    .command('ladder')
    .description('FID sanity ladder on real Shapes data (test vs train vs blurred vs noise)')
    .option('--count <n>', 'images per rung (default 1000)', positiveInt('--count'))
    .option('--json', 'print one JSON object')
    .action(async (opts: { count?: number; json?: boolean }) => {
      await initBackend();
      const n = opts.count ?? 1000;
      const rungs = await fidSanityLadder(n);
      const report = { n, fid_name: `FID-${n >= 1000 ? n / 1000 + 'K' : n}`, rungs };
      printReport(!!opts.json, report, () => rungs.map((r) => `${r.name.padEnd(26)} ${r.fid.toFixed(3)}`).join('\n'));
    });

  evalCmd
    .command('bench')
    .description('time `eval --images` on N real Shapes test images written as PNGs (speed target: 1000 in under a minute)')
    .option('--count <n>', 'images (default 1000)', positiveInt('--count'))
    .option('--save <file>', 'also write the JSON result to this file (e.g. results/eval/bench.json)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { count?: number; save?: string; json?: boolean }) => {
      if (opts.save !== undefined) checkOutputFile('--save', opts.save); // before the benchmark, not after it
      const backend = await initBackend();
      const n = opts.count ?? 1000;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-eval-bench-'));
      const scenes = generateShapes({ split: 'test', count: n, seed: 0, start: 100000 });
      fs.writeFileSync(path.join(dir, 'samples.jsonl'), scenes.map((s, i) => {
        writePngRgb(path.join(dir, `${i}.png`), s.rgb, s.width, s.height);
        return JSON.stringify({ file: `${i}.png`, caption: s.caption, dataset: 'shapes' });
      }).join('\n') + '\n');
      // Cold: first evaluation in this process (loads the judge, computes the 5000-image reference).
      const t0 = Date.now();
      const cold = await evaluateFolder(dir);
      const coldS = (Date.now() - t0) / 1000;
      const t1 = Date.now();
      await evaluateFolder(dir);
      const warmS = (Date.now() - t1) / 1000;
      fs.rmSync(dir, { recursive: true, force: true });
      const report = {
        workload: `eval --images, ${n} Shapes images (PNG), FID vs 5000 real, GenEval, CLIP`, backend: backend.backend, n,
        cold_seconds: coldS, warm_seconds: warmS, target_seconds: 60, clip_score_computed: cold.clip_score != null,
        cpus: os.cpus().length, measured_at: new Date().toISOString(),
      };
      if (opts.save) {
        fs.mkdirSync(path.dirname(opts.save), { recursive: true });
        fs.writeFileSync(opts.save, JSON.stringify(report, null, 2) + '\n');
      }
      printReport(!!opts.json, report, () => Object.entries(report).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n'));
    });

  evalCmd
    .command('train-judges')
    .description('retrain the judges on real data and write results/eval/judges/<name>.{bin,json}')
    .option('--only <names>', 'comma-separated subset of shapes, mnist, fashion')
    .option('--steps <n>', 'override the training steps', positiveInt('--steps'))
    .option('--out <dir>', 'output folder (default results/eval/judges)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { only?: string; steps?: number; out?: string; json?: boolean }) => {
      if (opts.out !== undefined) checkOutputDir('--out', opts.out); // before training, not at the save after it
      const manifests = await trainJudges(parseJudgeNames(opts.only), { outDir: opts.out, steps: opts.steps, log: info });
      const report = { judges: manifests.map((m) => ({ name: m.name, testAccuracy: m.testAccuracy, targets: m.targets, trainSeconds: m.trainSeconds })) };
      printReport(!!opts.json, report, () => JSON.stringify(report, null, 2));
    });
}
