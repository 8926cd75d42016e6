// `crossflow sample --run DIR --prompts FILE --out DIR2 [--cfg W] [--steps N] [--seed S] [--guidance MODE] [--guidance-interval LO HI]`:
// one image per caption line -> DIR2/<index>.png and DIR2/samples.jsonl. Logic: lib/sampling/generate.ts.
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { initBackend } from '../../backend/select';
import { checkOutputDir, CrossflowError, ensureOutputDir, invalidValue } from '../../errors';
import { writePngRgb } from '../../eval/folder';
import { parseGuidanceMode } from '../../guidance/combine';
import { generate, loadRun } from '../../sampling/generate';
import { accuracyByShape, addConfusions, ShapeConfusion, singleObjectRow, SingleObjectRow, veAttributeDistances } from '../../runs/singleObject';
import { info, printReport } from '../report';

export function register(program: Command): void {
  program
    .command('sample')
    .description('generate one image per prompt line with a trained run (EMA weights)')
    .requiredOption('--run <dir>', 'run directory written by crossflow train')
    .requiredOption('--prompts <file>', 'text file, one caption per line')
    .requiredOption('--out <dir>', 'output folder: <index>.png and samples.jsonl')
    .option('--cfg <w>', "guidance weight (1 = none; default: the run's guidance.scale)")
    .option('--steps <n>', "Euler steps (default: the run's sample.steps)")
    .option('--seed <n>', 'seed of the source latents', '0')
    .option('--guidance <mode>', 'none, or the mode the run was trained for (indicator, cfg, autoguidance)')
    .option('--guidance-interval <lo-hi...>', 'guide only while lo <= t < hi (default 0 1: everywhere)')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (o: { run: string; prompts: string; out: string; cfg?: string; steps?: string; seed: string; guidance?: string; guidanceInterval?: string[]; json?: boolean }) => {
      checkOutputDir('--out', o.out); // before sampling, not at the write after it
      if (!fs.existsSync(o.prompts)) throw new CrossflowError(`--prompts ${o.prompts} does not exist (expected a text file with one caption per line)`);
      const prompts = fs.readFileSync(o.prompts, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
      if (prompts.length === 0) throw invalidValue('--prompts', o.prompts, 'a file with at least one non-empty line');
      const cfg = o.cfg === undefined ? undefined : Number(o.cfg);
      if (cfg !== undefined && !(cfg >= 0)) throw invalidValue('--cfg', o.cfg, 'a number >= 0');
      const steps = o.steps === undefined ? undefined : Number(o.steps);
      if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1)) throw invalidValue('--steps', o.steps, 'an integer >= 1');
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0) throw invalidValue('--seed', o.seed, 'an integer >= 0');
      const guidance = o.guidance === undefined ? undefined : parseGuidanceMode(o.guidance, '--guidance');
      const guidanceInterval = parseInterval(o.guidanceInterval);
      await initBackend();
      const run = await loadRun(o.run);
      const t0 = Date.now();
      info(`sampling ${prompts.length} prompts with ${run.config.preset} (step ${run.step})`);
      const g = generate(run, prompts, { cfg, steps, seed, guidance, guidanceInterval });
      ensureOutputDir('--out', o.out);
      const lines = g.images.map((im, i) => {
        const file = `${i}.png`;
        writePngRgb(path.join(o.out, file), im.rgb, im.width, im.height);
        return JSON.stringify({ index: i, file, caption: prompts[i], dataset: 'shapes', run: path.resolve(o.run), step: run.step, seed, cfg: g.cfg, guidance: g.guidance, guidance_interval: guidanceInterval ?? [0, 1], steps: g.steps });
      });
      fs.writeFileSync(path.join(o.out, 'samples.jsonl'), lines.join('\n') + '\n');
      run.dispose();
      const seconds = (Date.now() - t0) / 1000;
      printReport(!!o.json, { out: path.resolve(o.out), count: prompts.length, guidance: g.guidance, cfg: g.cfg, steps: g.steps, seed, seconds }, () => `${prompts.length} images -> ${o.out} (${g.guidance}, w=${g.cfg}, ${g.steps} steps, ${seconds.toFixed(1)} s)`);
    });

  program
    .command('sample-check')
    .description("single-object prompts (seen and held-out color-shape pairs) sampled and read back by the Shapes judge")
    .requiredOption('--run <dir>', 'run directory written by crossflow train')
    .option('--per-prompt <n>', 'samples per prompt', '8')
    .option('--cfg <w...>', "guidance weights to try (default: the run's guidance.scale)")
    .option('--steps <n>', "Euler steps (default: the run's sample.steps)")
    .option('--seed <n>', 'seed of the source latents', '7')
    .option('--guidance-interval <lo-hi...>', 'guide only while lo <= t < hi (default 0 1: everywhere)')
    .option('--start-t <t>', 'diagnostic: start each sample at t on the path to a real rendering of its prompt (default 0: from the source)')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (o: { run: string; perPrompt: string; cfg?: string[]; steps?: string; seed: string; guidanceInterval?: string[]; startT?: string; json?: boolean }) => {
      const per = Number(o.perPrompt);
      if (!Number.isInteger(per) || per < 1) throw invalidValue('--per-prompt', o.perPrompt, 'an integer >= 1');
      const steps = o.steps === undefined ? undefined : Number(o.steps);
      if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1)) throw invalidValue('--steps', o.steps, 'an integer >= 1');
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0) throw invalidValue('--seed', o.seed, 'an integer >= 0');
      const guidanceInterval = parseInterval(o.guidanceInterval);
      const startT = o.startT === undefined ? 0 : Number(o.startT);
      if (!(startT >= 0 && startT < 1)) throw invalidValue('--start-t', o.startT, 'a number in [0, 1)');
      await initBackend();
      const run = await loadRun(o.run);
      const weights = (o.cfg ?? [String(run.config.guidance.scale)]).map((w) => {
        const x = Number(w);
        if (!(x >= 0)) throw invalidValue('--cfg', w, 'numbers >= 0');
        return x;
      });
      const rows: Array<{ cfg: number } & SingleObjectRow> = [];
      // Per prompted shape, seen and held-out pairs together (CrossFlow's weak spot is squares and diamonds).
      const byShape: Array<{ cfg: number } & Record<string, number>> = [];
      // What the judge read instead, per prompted shape (seen and held-out together).
      const confusion: Array<{ cfg: number; read: ShapeConfusion }> = [];
      for (const cfg of weights) {
        for (const which of ['seen', 'heldout'] as const) {
          const r = await singleObjectRow(run, which, per, { cfg, steps, seed, guidanceInterval, startT });
          rows.push({ cfg, ...r });
          info(`w=${cfg} ${which}: right color and shape ${(100 * r.accuracy).toFixed(1)}% (color ${(100 * r.color).toFixed(1)}%, shape ${(100 * r.shape).toFixed(1)}%, one object ${(100 * r.one_object).toFixed(1)}%) of ${r.n}`);
        }
        const atW = rows.filter((r) => r.cfg === cfg);
        const shapes = accuracyByShape(atW.flatMap((r) => r.per_prompt));
        byShape.push({ cfg, ...shapes });
        info(`w=${cfg} by shape: ${Object.entries(shapes).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`).join(', ')}`);
        const read = addConfusions(atW.map((r) => r.shape_confusion));
        confusion.push({ cfg, read });
        for (const [want, row] of Object.entries(read)) info(`w=${cfg} ${want} prompts read as: ${Object.entries(row).filter(([, k]) => k > 0).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
      const separation = veAttributeDistances(run);
      if (separation) info(`Text VE means, L2 apart: colours ${separation.color.toFixed(1)}; shapes ${Object.entries(separation.shape).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
      const report = { run: path.resolve(o.run), step: run.step, preset: run.config.preset, seed, guidance_interval: guidanceInterval ?? [0, 1], start_t: startT, rows, by_shape: byShape, shape_confusion: confusion, ve_distances: separation };
      run.dispose();
      printReport(!!o.json, report, () => rows.map((r) => `w=${r.cfg} ${r.prompts}: ${(100 * r.accuracy).toFixed(1)}% right (n=${r.n})`).join('\n'));
    });
}

/** `--guidance-interval lo hi` as numbers (generateFrom checks 0 <= lo < hi <= 1). */
function parseInterval(v: string[] | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const xs = v.map(Number);
  if (xs.length !== 2 || xs.some((x) => !Number.isFinite(x)) || !(xs[0] >= 0 && xs[0] < xs[1] && xs[1] <= 1)) throw invalidValue('--guidance-interval', v.join(' '), 'two numbers lo hi with 0 <= lo < hi <= 1');
  return [xs[0], xs[1]];
}
