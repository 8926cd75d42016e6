// `crossflow latent`: latent arithmetic and interpolation on a trained CrossFlow run. Logic: lib/latent/.
//   crossflow latent --run DIR --expr '"a red circle" - "a red square" + "a blue square"' --out DIR [--seeds N] [--cfg W]
//   crossflow latent interpolate --run DIR --prompts 'a red circle' 'a blue square' [--steps 8] [--mode lerp|slerp] --out DIR
//   crossflow latent grid --run DIR --prompts TL TR BL BR [--steps 4] --out DIR
//   crossflow latent measure --run DIR [--seeds 3] [--cfg W] --save FILE     success rates and smoothness
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../backend/select';
import { checkOutputDir, checkOutputFile, CrossflowError, ensureOutputDir, invalidValue } from '../../errors';
import { writePngRgb } from '../../eval/folder';
import { parseExpression } from '../../latent/expression';
import { bilinearGrid, combineLatents, ENCODE_MODES, EncodeMode, interpolationPath, PATH_MODES, PathMode, sampleFromLatents } from '../../latent/latents';
import { measureArithmetic, measureInterpolation } from '../../latent/measure';
import { LoadedRun, loadRun } from '../../sampling/generate';
import { gitCommit, writeFileAtomic } from '../../experiments/runOne';
import { info, printReport } from '../report';
import { LATENT_RESULTS, writeLatentReport } from '../../latent/report';
import { guidanceWeight, nonNegativeInt, positiveInt } from '../parse';

function choice<T extends string>(field: string, allowed: readonly T[]) {
  return (v: string): T => {
    if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(`${field} must be one of ${allowed.join(', ')}, got '${v}'`);
    return v as T;
  };
}

async function openRun(dir: string): Promise<LoadedRun> {
  if (!fs.existsSync(dir)) throw new CrossflowError(`--run ${dir} does not exist; train one with: npx crossflow train --preset small --out ${dir}`);
  await initBackend();
  const run = await loadRun(dir);
  if (!run.models.ve) {
    run.dispose();
    throw new CrossflowError(`--run ${dir} is a ${run.config.family} run (preset ${run.config.preset}) with no Text VE: latent arithmetic needs a CrossFlow run`);
  }
  return run;
}

/** Writes <i>.png and samples.jsonl like `crossflow sample`. */
function writeFolder(out: string, images: Array<{ rgb: Uint8ClampedArray; width: number; height: number }>, lines: Array<Record<string, unknown>>): void {
  ensureOutputDir('--out', out);
  const jsonl = images.map((im, i) => {
    const file = `${i}.png`;
    writePngRgb(path.join(out, file), im.rgb, im.width, im.height);
    return JSON.stringify({ index: i, file, dataset: 'shapes', ...lines[i] });
  });
  fs.writeFileSync(path.join(out, 'samples.jsonl'), jsonl.join('\n') + '\n');
}

interface Common {
  run: string;
  out: string;
  cfg?: number;
  mode: EncodeMode;
  json?: boolean;
}

export function register(program: Command): void {
  program.enablePositionalOptions();
  const latent = program
    .command('latent')
    .description('latent arithmetic on Text VE latents: an expression of quoted prompts, sampled to images (subcommands: interpolate, grid, measure)')
    .option('--run <dir>', 'a trained CrossFlow run')
    .option('--expr <expression>', 'e.g. \'"a red circle" - "a red square" + "a blue square"\' (weights: 0.5 * "...", parentheses)')
    .option('--out <dir>', 'output folder: <i>.png and samples.jsonl')
    .option('--seeds <n>', 'samples of the expression, one per seed', positiveInt('--seeds'), 4)
    .option('--cfg <w>', "guidance weight (default: the run's guidance.scale)", guidanceWeight)
    .option('--mode <mode>', `each prompt's latent: ${ENCODE_MODES.join(' or ')} (the paper samples)`, choice('--mode', ENCODE_MODES), 'sampled')
    .option('--no-standardise', "keep the sum as it is instead of standardising it by its own mean and std (the paper's step)")
    .option('--json', 'print one JSON object on the last line of stdout')
    .enablePositionalOptions()
    .action(async (o: Common & { expr?: string; seeds: number; standardise: boolean }) => {
      if (!o.run || !o.expr || !o.out) throw new CrossflowError('crossflow latent needs --run DIR --expr EXPRESSION --out DIR (or a subcommand: interpolate, grid, measure)');
      const combo = parseExpression(o.expr); // syntax errors before anything loads
      checkOutputDir('--out', o.out);
      const run = await openRun(o.run);
      try {
        const images = [];
        const lines = [];
        for (let seed = 0; seed < o.seeds; seed++) {
          const z = combineLatents(run, [combo], { mode: o.mode, seed, standardise: o.standardise });
          const g = sampleFromLatents(run, z, [o.expr], { cfg: o.cfg, seed });
          z.dispose();
          images.push(...g.images);
          lines.push({ expression: o.expr, terms: Object.fromEntries(combo), seed, standardised: o.standardise, mode: o.mode, cfg: g.cfg, guidance: g.guidance, steps: g.steps, run: path.resolve(o.run), step: run.step });
        }
        writeFolder(o.out, images, lines);
        printReport(!!o.json, { out: path.resolve(o.out), count: images.length, terms: Object.fromEntries(combo) }, () => `${images.length} images of ${o.expr} -> ${o.out}`);
      } finally {
        run.dispose();
      }
    });

  latent
    .command('interpolate')
    .description('images along a path through two or more prompts\' latents')
    .requiredOption('--run <dir>', 'a trained CrossFlow run')
    .requiredOption('--prompts <prompts...>', 'two or more prompts, in path order')
    .requiredOption('--out <dir>', 'output folder')
    .option('--steps <n>', 'images between each pair of prompts', nonNegativeInt('--steps'), 8)
    .option('--path <mode>', `${PATH_MODES.join(' (the paper) or ')}`, choice('--path', PATH_MODES), 'lerp')
    .option('--seed <k>', 'seed of the sampled latents and of the sampler', nonNegativeInt('--seed'), 0)
    .option('--cfg <w>', "guidance weight (default: the run's guidance.scale)", guidanceWeight)
    .option('--mode <mode>', `each prompt's latent: ${ENCODE_MODES.join(' or ')}`, choice('--mode', ENCODE_MODES), 'sampled')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (o: Common & { prompts: string[]; steps: number; path: PathMode; seed: number }) => {
      if (o.prompts.length < 2) throw invalidValue('--prompts', o.prompts.length, 'at least 2 prompts');
      checkOutputDir('--out', o.out);
      const run = await openRun(o.run);
      try {
        const z = interpolationPath(run, o.prompts, o.steps, o.path, { mode: o.mode, seed: o.seed });
        const g = sampleFromLatents(run, z, new Array(z.shape[0]).fill(''), { cfg: o.cfg, seed: o.seed });
        z.dispose();
        const per = o.steps + 1;
        writeFolder(o.out, g.images, g.images.map((_, i) => ({ from: o.prompts[Math.min(Math.floor(i / per), o.prompts.length - 2)], to: o.prompts[Math.min(Math.floor(i / per) + 1, o.prompts.length - 1)], position: i, path: o.path, seed: o.seed, cfg: g.cfg, guidance: g.guidance, steps: g.steps, run: path.resolve(o.run), step: run.step })));
        printReport(!!o.json, { out: path.resolve(o.out), count: g.images.length, path: o.path }, () => `${g.images.length} images (${o.path}) -> ${o.out}`);
      } finally {
        run.dispose();
      }
    });

  latent
    .command('grid')
    .description('a bilinear grid between four prompts: top-left, top-right, bottom-left, bottom-right')
    .requiredOption('--run <dir>', 'a trained CrossFlow run')
    .requiredOption('--prompts <prompts...>', 'four prompts: TL TR BL BR')
    .requiredOption('--out <dir>', 'output folder')
    .option('--steps <n>', 'images between corners along each side', nonNegativeInt('--steps'), 4)
    .option('--seed <k>', 'seed', nonNegativeInt('--seed'), 0)
    .option('--cfg <w>', "guidance weight (default: the run's guidance.scale)", guidanceWeight)
    .option('--mode <mode>', `each prompt's latent: ${ENCODE_MODES.join(' or ')}`, choice('--mode', ENCODE_MODES), 'sampled')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (o: Common & { prompts: string[]; steps: number; seed: number }) => {
      if (o.prompts.length !== 4) throw invalidValue('--prompts', o.prompts.length, 'exactly 4 prompts (top-left, top-right, bottom-left, bottom-right)');
      checkOutputDir('--out', o.out);
      const run = await openRun(o.run);
      try {
        const z = bilinearGrid(run, o.prompts as [string, string, string, string], o.steps, { mode: o.mode, seed: o.seed });
        const g = sampleFromLatents(run, z, new Array(z.shape[0]).fill(''), { cfg: o.cfg, seed: o.seed });
        z.dispose();
        const side = o.steps + 2;
        writeFolder(o.out, g.images, g.images.map((_, i) => ({ row: Math.floor(i / side), col: i % side, corners: o.prompts, seed: o.seed, cfg: g.cfg, run: path.resolve(o.run), step: run.step })));
        printReport(!!o.json, { out: path.resolve(o.out), rows: side, cols: side }, () => `${side}x${side} grid -> ${o.out}`);
      } finally {
        run.dispose();
      }
    });

  latent
    .command('measure')
    .description('arithmetic success rates (colour and shape swaps, against the direct prompt and a random latent) and interpolation smoothness, read by the Shapes judge')
    .requiredOption('--run <dir>', 'a trained CrossFlow run')
    .requiredOption('--save <file>', 'result JSON (e.g. results/latent/<name>.json)')
    .option('--seeds <n>', 'sampling seeds', positiveInt('--seeds'), 3)
    .option('--cfg <w>', "guidance weight (default: the run's guidance.scale)", guidanceWeight)
    .option('--steps <n>', 'images between the two prompts of each interpolation path', nonNegativeInt('--steps'), 8)
    .option('--remake <command>', 'the command that re-creates the run, recorded beside the result')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (o: { run: string; save: string; seeds: number; cfg?: number; steps: number; remake?: string; json?: boolean }) => {
      checkOutputFile('--save', o.save);
      const run = await openRun(o.run);
      const t0 = Date.now();
      try {
        const cfg = o.cfg ?? run.config.guidance.scale;
        const arithmetic = await measureArithmetic(run, { seeds: o.seeds, cfg, log: info });
        const interpolation: Array<Awaited<ReturnType<typeof measureInterpolation>>> = [];
        for (const mode of PATH_MODES) interpolation.push(await measureInterpolation(run, { mode, between: o.steps, seeds: o.seeds, cfg, log: info }));
        const argv = process.argv.slice(2).map((a) => (/[\s"'$]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a));
        const result = {
          command: `npx crossflow ${argv.join(' ')}`, run_command: o.remake ?? null, run: path.resolve(o.run), run_step: run.step,
          run_config: run.config, git_commit: gitCommit(), cfg, seeds: o.seeds, arithmetic, interpolation, seconds: (Date.now() - t0) / 1000,
        };
        writeFileAtomic(o.save, JSON.stringify(result, null, 2) + '\n');
        printReport(!!o.json, result, () =>
          [
            `arithmetic: ${(100 * arithmetic.arithmetic.all.rate).toFixed(1)}% (n=${arithmetic.arithmetic.all.n}); direct prompt ${(100 * arithmetic.ceiling.all.rate).toFixed(1)}%; random latent ${(100 * arithmetic.floor.all.rate).toFixed(1)}%`,
            `held-out targets: arithmetic ${(100 * arithmetic.arithmetic.heldoutTargets.rate).toFixed(1)}%, direct ${(100 * arithmetic.ceiling.heldoutTargets.rate).toFixed(1)}%`,
            ...interpolation.map((r) => `${r.mode}: switch at ${r.meanSwitchAt.toFixed(2)}, monotonic ${(100 * r.monotonic).toFixed(0)}%, unevenness ${r.meanUnevenness.toFixed(2)}`),
            `wrote ${o.save}`,
          ].join('\n'),
        );
      } finally {
        run.dispose();
      }
    });

  latent
    .command('report')
    .description('results/latent/REPORT.md from the measurement files there')
    .option('--dir <dir>', 'folder of measurement files', LATENT_RESULTS)
    .action((o: { dir: string }) => {
      info(`wrote ${writeLatentReport(o.dir)}`);
    });
}
