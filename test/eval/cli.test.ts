// `crossflow eval --images DIR --json` on a folder of real Shapes test images written as PNGs:
// the JSON contract (keys, one object on the last stdout line) and the values real data must get
// (FID small, GenEval high); and a captioning folder scored with the caption metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { generateShapes } from '../../lib/data/shapes/index';
import { writePngRgb, readPngRgb } from '../../lib/eval/folder';
import { evaluateFolder } from '../../lib/eval/folderEval';

const ROOT = path.join(__dirname, '..', '..');

function shapesFolder(n: number, start: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-eval-'));
  const scenes = generateShapes({ split: 'test', count: n, seed: 0, start });
  const lines = scenes.map((s, i) => {
    const file = `${String(i).padStart(5, '0')}.png`;
    writePngRgb(path.join(dir, file), s.rgb, s.width, s.height);
    return JSON.stringify({ file, caption: s.caption, dataset: 'shapes' });
  });
  fs.writeFileSync(path.join(dir, 'samples.jsonl'), lines.join('\n') + '\n');
  return dir;
}

test('PNG round trip is lossless', async () => {
  const s = generateShapes({ split: 'test', count: 1, seed: 0 })[0];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-png-'));
  writePngRgb(path.join(dir, 'a.png'), s.rgb, 32, 32);
  const back = await readPngRgb(path.join(dir, 'a.png'));
  assert.deepEqual(Array.from(back.rgb), Array.from(s.rgb));
});

test('crossflow eval --images DIR --json prints the metrics of real images as one JSON object', () => {
  const dir = shapesFolder(200, 50000);
  const out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'crossflow.js'), 'eval', '--images', dir, '--real', '500', '--json'], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const last = out.trim().split('\n').pop() as string;
  const r = JSON.parse(last);
  for (const k of ['fid', 'fid_n', 'clip_score', 'r_precision', 'geneval']) assert.ok(k in r, `missing ${k}`);
  assert.equal(r.fid_n, 200);
  assert.equal(r.fid_name, 'FID-200');
  for (const k of ['overall', 'single_object', 'two_objects', 'counting', 'colors', 'position', 'attribute_binding']) assert.equal(typeof r.geneval[k], 'number', k);
  // Real test images: the judge reads their captions back, and they sit close to the real statistics.
  assert.ok(r.geneval.overall >= 0.95, `geneval ${r.geneval.overall}`);
  assert.ok(r.caption_match >= 0.95, `caption_match ${r.caption_match}`);
  assert.ok(r.fid < 1, `fid ${r.fid}`);
});

test('a captioning folder is scored with the caption metrics', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-cap-'));
  const scenes = generateShapes({ split: 'test', count: 30, seed: 0 });
  fs.writeFileSync(
    path.join(dir, 'samples.jsonl'),
    scenes.map((s) => JSON.stringify({ prediction: s.caption, references: s.captions, attributes: s.attributes })).join('\n') + '\n',
  );
  const r = (await evaluateFolder(dir)) as Record<string, number> & { caption_attributes: { exact: number } };
  assert.equal(r.task as unknown as string, 'captioning');
  assert.ok(Math.abs(r.bleu1 - 1) < 1e-6); // the prediction is one of the references
  assert.ok(r.cider > 0 && r.rouge_l > 0.999);
  // Corpus METEOR sums statistics, so even all-perfect segments keep a fragmentation penalty
  // (one chunk per segment), as METEOR 1.5's aggregate does.
  assert.ok(r.meteor > 0.5 && r.meteor < 1);
  assert.equal(r.caption_attributes.exact, 1);
});

test('a depth folder gets AbsRel, RMSE and deltas; a super-resolution folder gets PSNR and SSIM', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-depth-'));
  const gt = Float32Array.from([1, 2, 4, 10]);
  const pred = Float32Array.from([1, 2.4, 6, 5]); // ratios 1, 1.2, 1.5, 2
  fs.writeFileSync(path.join(dir, 'gt.f32'), Buffer.from(gt.buffer));
  fs.writeFileSync(path.join(dir, 'pred.f32'), Buffer.from(pred.buffer));
  fs.writeFileSync(path.join(dir, 'samples.jsonl'), JSON.stringify({ depth_file: 'pred.f32', target_depth_file: 'gt.f32' }) + '\n');
  const d = (await evaluateFolder(dir)) as Record<string, number>;
  assert.ok(Math.abs(d.absrel - (0 + 0.2 + 0.5 + 0.5) / 4) < 1e-6);
  assert.equal(d.delta1, 0.5);

  const sr = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-sr-'));
  const s = generateShapes({ split: 'test', count: 1, seed: 0 })[0];
  const off = Uint8ClampedArray.from(s.rgb, (v, i) => (i === 0 ? v + 10 : v)); // one channel value off by 10
  writePngRgb(path.join(sr, 'out.png'), off, 32, 32);
  writePngRgb(path.join(sr, 'hr.png'), s.rgb, 32, 32);
  fs.writeFileSync(path.join(sr, 'samples.jsonl'), JSON.stringify({ file: 'out.png', target: 'hr.png' }) + '\n');
  const r = (await evaluateFolder(sr)) as Record<string, number>;
  // MSE = 100 / (32 * 32 * 3) -> PSNR = 10 log10(255^2 / MSE)
  assert.ok(Math.abs(r.psnr - 10 * Math.log10((255 * 255 * 3072) / 100)) < 1e-9);
  assert.ok(r.ssim > 0.99 && r.ssim < 1);
});

test('subcommand options are the subcommand\'s: eval ladder --count 5 --json', async () => {
  const { buildProgram } = await import('../../lib/cli/main');
  const program = buildProgram();
  const evalCmd = program.commands.find((c) => c.name() === 'eval')!;
  const ladder = evalCmd.commands.find((c) => c.name() === 'ladder')!;
  let seen: unknown = null;
  ladder.action((o: unknown) => {
    seen = o;
  });
  await program.parseAsync(['node', 'crossflow', 'eval', 'ladder', '--count', '5', '--json']);
  assert.deepEqual(seen, { count: 5, json: true });
});
