// `crossflow eval`: the evaluation suite.
//   crossflow eval --images DIR [--count N] [--json]   score a folder of samples (samples.jsonl + PNGs; lib/eval/folderEval.ts)
//   crossflow eval --run DIR [--count N] [--cfg W] [--json]  sample from a trained run, then score (evaluateRunDir, lib/runs/evaluate.ts)
//   crossflow eval judges [--json]                     the judges' accuracy on the real test splits
//   crossflow eval ladder [--count N] [--json]         the FID sanity ladder on real Shapes data
//   crossflow eval bench [--count N] [--save FILE]        time eval --images on N real images
//   crossflow eval train-judges [--only shapes,mnist,fashion] [--steps N]
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import * as os from 'os';
import { generateShapes } from '../../data/shapes/index';
import { info, printReport } from '../report';
import { checkOutputDir, checkOutputFile, CrossflowError } from '../../errors';
import { initBackend } from '../../backend/select';
import { writePngRgb } from '../../eval/folder';
import { evaluateFolder } from '../../eval/folderEval';
import { fidSanityLadder } from '../../eval/shapesEval';
import { trainJudges, parseJudgeNames } from '../../eval/judges/train';
import { judgesReport } from '../../eval/judgesReport';
import { evaluateRunDir } from '../../runs/evaluate';
import { guidanceWeight, positiveInt } from '../parse';

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
    .option('--cfg <w>', "--run: guidance weight (1 = none; default: the run's guidance.scale)", guidanceWeight)
    .option('--json', 'print one JSON object')
    // Subcommands have their own --json: parent options only before the subcommand name.
    .enablePositionalOptions()
    .action(async (opts: { images?: string; run?: string; count?: number; real?: number; genevalSamples?: number; seed?: number; cfg?: number; json?: boolean }) => {
      if (!opts.images === !opts.run) throw new CrossflowError('give exactly one of --images DIR or --run DIR (or a subcommand: judges, ladder, train-judges)');
      const backend = await initBackend();
      info(`backend: ${backend.backend}`);
      const t0 = Date.now();
      const report = opts.images
        ? await evaluateFolder(opts.images, { count: opts.count, realCount: opts.real, log: info })
        : await evaluateRunDir(opts.run as string, { count: opts.count ?? 1000, genevalSamples: opts.genevalSamples ?? 4, realCount: opts.real, seed: opts.seed, cfg: opts.cfg, log: info });
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
