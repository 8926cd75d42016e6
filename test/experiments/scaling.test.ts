// The scaling study (Table 1, Fig. 3): its plan (per-row presets and seeds, kept checkpoints, the sampling
// stage), parameter matching of its sizes, Table 3's run keys untouched by the harness's new fields, the
// size and step verdicts against synthetic results with known answers, and the whole study end to end in
// the smoke profile through the command line (result files, REPORT.md, table.tex, figures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../lib/backend/select';
import { buildModels } from '../../lib/models/crossflow';
import { defaultDirs, planRun, planStudy, rowConfig } from '../../lib/experiments/plan';
import { SCALES } from '../../lib/experiments/scale';
import { STUDIES, studyByName } from '../../lib/experiments/studies/index';
import { bestCfg, bootstrapGroups, collectScaling, gainVerdict, slope } from '../../lib/experiments/scaling/results';
import { readSpeed, ScalingSpeed, speedFile, speedSettingsHash, summarizeSpeed } from '../../lib/experiments/scaling/speed';
import { speedVerdict } from '../../lib/experiments/scaling/report';
import { METRICS } from '../../lib/runs/evaluate';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'crossflow.js');
const scaling = studyByName('scaling');

test("Table 3's run keys are those from before the scaling study's fields: every row, seed and profile, config and evaluation", () => {
  // Listed (sorted) and hashed by the code of commit 61aa82e, before rows had presets and seeds and studies their scales;
  // then (160e9a1) guidance-recipe's autoguidance row took the quickstart's bad model on purpose: the rest are hashed
  // without it (the same 108 lines before and after that commit).
  const lines: string[] = [];
  for (const s of Object.values(STUDIES).filter((x) => x.name !== 'scaling'))
    for (const p of ['smoke', 'small', 'paper'] as const)
      for (const r of planStudy(s, p, { results: '/nonexistent/r', runs: '/nonexistent/runs' }, { seeds: 2 }))
        if (!(s.name === 'guidance-recipe' && r.row === 'autoguidance')) lines.push(`${s.name}/${r.row}/${r.seed}/${p} ${r.configHash} ${r.evalHash}`);
  lines.sort();
  assert.equal(lines.length, 108);
  assert.equal(crypto.createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16), '006243c14db5cd27');
  // That row's bad model: a quarter of each profile's steps, as the quickstart takes it.
  const recipe = studyByName('guidance-recipe');
  const ag = recipe.rows.find((r) => r.name === 'autoguidance')!;
  for (const p of ['smoke', 'small', 'paper'] as const) {
    const c = planRun(recipe, ag, 0, p, defaultDirs(p)).config;
    assert.equal(c.guidance.badStep, Math.round(c.steps / 4), p);
  }
  // The committed result of the indicator row is still today's (done, not stale).
  const guidance = studyByName('guidance');
  const indicator = planRun(guidance, guidance.rows.find((r) => r.name === 'indicator')!, 0, 'small', defaultDirs('small'));
  assert.deepEqual([indicator.configHash, indicator.evalHash], ['14055766c8e7', 'd5e461ea9a3f']);
  assert.ok(!('steps' in indicator.eval) && !('keepSteps' in indicator.config.log));
});

test('the scaling plan: each row its preset and seeds, kept checkpoints as evaluated, one recipe for both families, a sampling stage', () => {
  const dirs = { results: '/nonexistent/r', runs: '/nonexistent/runs' };
  const scale = scaling.scales!.small;
  const runs = planStudy(scaling, 'small', dirs);
  const seedsOf = (row: string) => runs.filter((r) => r.row === row).map((r) => r.seed);
  for (const row of ['xs', 'fm-xs', 'small', 'fm-small']) assert.deepEqual(seedsOf(row), [0, 1, 2], row);
  for (const row of ['base', 'fm-base']) assert.ok(seedsOf(row).length >= 1, row);
  assert.deepEqual(runs.slice(0, 6).map((r) => `${r.row}/${r.seed}`), ['xs/0', 'fm-xs/0', 'small/0', 'fm-small/0', 'base/0', 'fm-base/0'], 'seed-major');
  assert.ok(scale.evalSteps!.length >= 4);
  assert.deepEqual(scale.eval, SCALES.small.eval, "Table 3's evaluation");
  for (const r of runs) {
    assert.equal(r.config.preset, scaling.rows.find((x) => x.name === r.row)!.preset);
    assert.deepEqual(r.config.log.keepSteps, scale.evalSteps);
    assert.deepEqual(r.eval.steps, scale.evalSteps);
    assert.equal(r.config.steps, scale.evalSteps![scale.evalSteps!.length - 1]);
    assert.equal(r.config.text.encoder, 'clip');
    assert.equal(r.config.family, r.row.startsWith('fm-') ? 'baseline' : 'crossflow');
    assert.equal(r.config.guidance.mode, r.row.startsWith('fm-') ? 'cfg' : 'indicator');
  }
  // Same recipe: everything but the model, the family's own fields and the seed is equal across rows.
  const recipe = (c: (typeof runs)[number]['config']) => JSON.stringify({ ...c, model: null, ve: null, enc: null, guidance: { ...c.guidance, mode: null }, family: null, preset: null, seed: null });
  assert.equal(new Set(runs.map((r) => recipe(r.config))).size, 1);
  // --seeds gives every row that many; --seed one; the sampling stage measures the first seeds only.
  assert.deepEqual(planStudy(scaling, 'small', dirs, { seeds: 4 }).filter((r) => r.row === 'base').map((r) => r.seed), [0, 1, 2, 3]);
  const sampling = planStudy(scaling, 'small', dirs, { stage: 'sampling' });
  // (every trained seed at this profile: 3 at xs and small, 2 at base)
  assert.deepEqual(sampling.map((r) => `${r.row}/${r.seed}`).sort(), scaling.rows.flatMap((r) => (r.name.endsWith('base') ? [0, 1] : [0, 1, 2]).map((k) => `${r.name}/${k}`)).sort());
  assert.deepEqual(planStudy(scaling, 'paper', dirs, { stage: 'sampling', rows: ['xs'] }).map((r) => r.seed), [0, 1, 2], 'paper: 5 trained, the first 3 measured');
  assert.equal(sampling[0].configHash, runs[0].configHash, 'the sampling stage measures the trained run');
  assert.match(sampling[0].resultFile, /scaling\/xs\/seed0-sampling\.json$/);
  assert.equal(sampling[0].command, 'npx crossflow ablate scaling --profile small --rows xs --seed 0 --sampling --results-dir /nonexistent/r --runs-dir /nonexistent/runs');
  // At the study's weight: Euler at 5, 10, 25, 50 evaluations and Heun beside them; then Euler 50 at other weights.
  const points = sampling[0].sampling!.points;
  const nfe = points.filter((p) => p.cfg === undefined).map((p) => `${p.solver}:${p.solver === 'euler' ? p.steps : 2 * p.steps}`);
  assert.deepEqual(nfe.filter((x) => x.startsWith('euler')), ['euler:5', 'euler:10', 'euler:25', 'euler:50']);
  assert.deepEqual(nfe.filter((x) => !x.startsWith('euler')), ['heun:4', 'heun:10', 'heun:24', 'heun:50']);
  assert.deepEqual(points.filter((p) => p.cfg !== undefined).map((p) => `${p.solver}:${p.steps}:w${p.cfg}`), ['euler:50:w1', 'euler:50:w1.5', 'euler:50:w2']);
  assert.throws(() => planStudy(studyByName('encoder'), 'small', dirs, { stage: 'sampling' }), /--sampling.*a study with a sampling step/);
});

test('the sizes: parameter counts (flow + Text VE) matched within 10% per size, spanning at least 8x, for both families', async () => {
  await initBackend();
  const count = (row: string) => {
    const m = buildModels(rowConfig(scaling, scaling.rows.find((r) => r.name === row)!, 0, 'small'), { size: 8, channels: 4 }, { tokens: 16, dim: 64 });
    const n = m.counts.model;
    m.dispose();
    return n;
  };
  const sizes = scaling.compare.map(([fm, cf]) => ({ cf: count(cf), fm: count(fm) }));
  for (const s of sizes) assert.ok(Math.abs(s.fm - s.cf) / s.cf <= 0.1, JSON.stringify(s));
  assert.ok(sizes[sizes.length - 1].cf / sizes[0].cf >= 8 && sizes[sizes.length - 1].fm / sizes[0].fm >= 8, JSON.stringify(sizes));
});

test('bootstrap of group means, slope and gain verdicts against known answers', () => {
  assert.ok(Math.abs(slope([0, 1, 2], [1, 3, 5]) - 2) < 1e-12);
  // Two groups without spread: the interval is the point.
  assert.deepEqual(bootstrapGroups([[1, 1, 1], [4, 4, 4]], (m) => m[1] - m[0], 'k'), [3, 3]);
  const ci = bootstrapGroups([[0.9, 1.0, 1.1], [3.9, 4.0, 4.1]], (m) => m[1] - m[0], 'k');
  assert.ok(ci[0] > 2.7 && ci[1] < 3.3 && ci[0] < 3 && ci[1] > 3, String(ci));
  assert.deepEqual(bootstrapGroups([[0.9, 1.0, 1.1], [3.9, 4.0, 4.1]], (m) => m[1] - m[0], 'k'), ci, 'seeded');
  // FID: a gap falling with size means CrossFlow gains more; accuracy: a gap rising does.
  assert.equal(gainVerdict([-3, -1], 'fid', true), 'CrossFlow gains more');
  assert.equal(gainVerdict([1, 3], 'fid', true), 'CrossFlow gains less');
  assert.equal(gainVerdict([0.01, 0.03], 'single_seen', true), 'CrossFlow gains more');
  assert.equal(gainVerdict([-1, 1], 'fid', true), 'no difference');
  assert.equal(gainVerdict([-3, -1], 'fid', false), 'too few seeds');
});

test('speed: CrossFlow over the baseline paired by round, verdicts only when the interval excludes 1, stale when settings change', () => {
  const dirs = { results: fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-speed-')), runs: '/nonexistent/runs' };
  const settings = { ...scaling.scales!.small.speed!, rounds: 3 };
  // The machine drifts between rounds (x1, x0.5, x2) but CrossFlow xs is twice the baseline's speed in each:
  // the paired ratio is exactly 2 with no spread, although each family's own spread is large.
  const drift = [1, 0.5, 2];
  const rows = (['xs', 'small', 'base'] as const).flatMap((size, k) => [
    { row: size, size, family: 'crossflow' as const, guidance: 'indicator', cfg: 3, guided: drift.map((d) => d * [2, 1, 1][k]), unguided: drift.map((d) => d * [4, 1, 1][k]) },
    { row: `fm-${size}`, size, family: 'baseline' as const, guidance: 'cfg', cfg: 3, guided: drift.map((d, i) => (k === 1 ? d / [0.9, 1.1, 1.0][i] : d * [1, 1, 2][k])), unguided: drift.map((d) => d * [2, 1, 1][k]) },
  ]);
  const speed: ScalingSpeed = {
    study: 'scaling', profile: 'small', stage: 'speed', command: 'x', settings, settings_hash: speedSettingsHash(scaling, 'small', scaling.scales!.small.speed!),
    git_commit: 'x', backend: 'cpu', blas_threads: 1, cpu: 'x', cpus: 2, load_per_cpu: { before: 0, after: 0 }, rows, seconds: 1,
  };
  const sums = summarizeSpeed(speed);
  assert.deepEqual(sums.map((s) => s.size), ['xs', 'small', 'base']);
  assert.ok(Math.abs(sums[0].ratio.guided.mean - 2) < 1e-12 && sums[0].ratio.guided.ci[0] > 1.999, JSON.stringify(sums[0].ratio.guided));
  assert.ok(sums[0].crossflow.guided.sd > 0.7, 'each family alone varies with the drift');
  assert.equal(speedVerdict(sums[0].ratio.guided), 'CrossFlow faster');
  assert.ok(Math.abs(sums[0].ratio.unguided.mean - 2) < 1e-12);
  assert.equal(speedVerdict(sums[2].ratio.guided), 'CrossFlow slower');
  assert.equal(speedVerdict(sums[1].ratio.guided), 'no difference', JSON.stringify(sums[1].ratio.guided));
  assert.equal(speedVerdict(summarizeSpeed({ ...speed, rows: rows.map((r) => ({ ...r, guided: r.guided.slice(0, 2), unguided: r.unguided.slice(0, 2) })) })[0].ratio.guided), 'too few rounds');
  // Read back only while its settings and the rows' configs are today's.
  fs.mkdirSync(path.join(dirs.results, 'scaling'), { recursive: true });
  fs.writeFileSync(speedFile(scaling, dirs), JSON.stringify(speed));
  assert.deepEqual(readSpeed(scaling, 'small', dirs), { speed, stale: null });
  fs.writeFileSync(speedFile(scaling, dirs), JSON.stringify({ ...speed, settings_hash: speedSettingsHash(scaling, 'small', settings) }));
  assert.deepEqual(readSpeed(scaling, 'small', dirs), { speed: null, stale: speedFile(scaling, dirs) });
  assert.deepEqual(readSpeed(scaling, 'smoke', dirs), { speed: null, stale: speedFile(scaling, dirs) });
});

/** Writes result files of the smoke plan whose FID follows fid(row, seed, step) and whose other metrics are 0.5. */
function writeSynthetic(dirs: { results: string; runs: string }, fid: (row: string, seed: number, step: number) => number): void {
  for (const run of planStudy(scaling, 'smoke', dirs, { seeds: 3 })) {
    const metricsAt = (step: number) => Object.fromEntries(METRICS.map((m) => [m.name, m.name === 'fid' ? fid(run.row, run.seed, step) : 0.5]));
    const steps = run.eval.steps!;
    const params = { flow: 0, ve: 0, aux: 0, model: { xs: 1e5, small: 4e5, base: 1.6e6 }[run.row.replace('fm-', '') as 'xs'] };
    fs.mkdirSync(path.dirname(run.resultFile), { recursive: true });
    fs.writeFileSync(run.resultFile, JSON.stringify({
      config_hash: run.configHash, eval_hash: run.evalHash, params, metrics: metricsAt(steps[steps.length - 1]),
      checkpoints: steps.map((step) => ({ step, metrics: metricsAt(step) })), timing: { train_seconds: 1, eval_seconds: 1 },
    }));
  }
}

test('each family at its own best guidance weight: picked by mean FID, the gap paired by seed at those weights', () => {
  const dirs = { results: fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-bestcfg-')), runs: '/nonexistent/runs' };
  // CrossFlow is best at the study's w = 3 (FID 20 + k), the baseline at w = 1 (FID 10 + k/2): the gap at each
  // one's best is 10 + k/2 = 10, 10.5, 11 (CrossFlow worse), although at w = 3 alone CrossFlow would look better.
  const fidAt = (row: string, seed: number, cfg: number) => (row.startsWith('fm-') ? (cfg === 1 ? 10 + seed / 2 : 50) : cfg === 1 ? 30 : 20 + seed);
  writeSynthetic(dirs, () => 40);
  for (const run of planStudy(scaling, 'smoke', dirs, { seeds: 3, stage: 'sampling' })) {
    const points = run.sampling!.points.map((p) => {
      const cfg = p.cfg ?? run.sampling!.cfg;
      return { solver: p.solver, steps: p.steps, cfg, nfe: p.solver === 'euler' ? p.steps : 2 * p.steps, metrics: Object.fromEntries(METRICS.map((m) => [m.name, m.name === 'fid' ? fidAt(run.row, run.seed, cfg) : 0.5])) };
    });
    fs.writeFileSync(run.resultFile, JSON.stringify({ config_hash: run.configHash, eval_hash: run.evalHash, sampling_settings: run.sampling, points }));
  }
  const [xs] = bestCfg(collectScaling(scaling, 'smoke', dirs));
  assert.equal(xs.crossflow!.cfg, scaling.cfg);
  assert.equal(xs.baseline!.cfg, 1);
  assert.deepEqual(xs.diff!.fid.seeds, [0, 1, 2]);
  assert.ok(Math.abs(xs.diff!.fid.mean - 10.5) < 1e-12, String(xs.diff!.fid.mean));
  assert.equal(xs.diff!.fid.verdict, 'worse');
  assert.equal(xs.diff!.single_seen.verdict, 'no difference');
});

test('verdicts from synthetic results: a gap that turns CrossFlow\'s way with size and with steps is found, a flat one is not', () => {
  const dirs = { results: fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-scaling-')), runs: '/nonexistent/runs' };
  // Baseline FID 50 (+ seed noise); CrossFlow's gap at the end +3 at xs, 0 at small, -3 at base (sizes 4x apart:
  // -6 / log10(16) per decade), and 2 larger at the first kept step (5) than at the last (20).
  const gap = { xs: 3, small: 0, base: -3 } as Record<string, number>;
  const noise = (seed: number) => [0, 0.2, -0.2][seed];
  writeSynthetic(dirs, (row, seed, step) => (row.startsWith('fm-') ? 50 + noise(seed) : 50 + gap[row] + (2 * (20 - step)) / 15 + noise(seed) * 0.5));
  const res = collectScaling(scaling, 'smoke', dirs);
  assert.deepEqual(res.sizes.map((s) => s.size), ['xs', 'small', 'base']);
  const end = (i: number) => res.sizes[i].gapByStep[res.sizes[i].gapByStep.length - 1].diff.fid;
  assert.ok(Math.abs(end(0).mean - 3) < 0.2 && end(0).verdict === 'worse', `xs: ${end(0).mean} ${end(0).verdict}`);
  assert.ok(Math.abs(end(2).mean + 3) < 0.2 && end(2).verdict === 'better', `base: ${end(2).mean} ${end(2).verdict}`);
  assert.deepEqual(res.sizeChanges.map((c) => c.size), ['small', 'base']);
  const toBase = res.sizeChanges[1].trend.fid;
  assert.ok(Math.abs(toBase.estimate + 6) < 0.2, String(toBase.estimate));
  assert.equal(toBase.verdict, 'CrossFlow gains more');
  assert.equal(res.sizeChanges[0].trend.fid.verdict, 'CrossFlow gains more');
  assert.equal(res.sizeSlopeEnough, null, 'every size has 3 seeds: the slope over all of them is the one');
  assert.ok(Math.abs(res.sizeSlope.fid.estimate - -6 / Math.log10(16)) < 0.3, String(res.sizeSlope.fid.estimate));
  assert.equal(res.sizeSlope.fid.verdict, 'CrossFlow gains more');
  // Steps: the gap at the last kept step (20) minus at the first (5) is -2 at every size.
  for (const s of res.sizes) assert.ok(Math.abs(s.stepGain.fid.mean + 2) < 1e-6, `${s.size}: ${s.stepGain.fid.mean}`);
  assert.equal(res.stepGain.fid.verdict, 'CrossFlow gains more');
  assert.deepEqual(res.pooledSizes, ['xs', 'small', 'base']);
  // Accuracy is flat (0.5 for both): no difference anywhere.
  assert.equal(res.sizeChanges[1].trend.single_seen.verdict, 'no difference');
  // A flat gap: no verdict for size or steps.
  const flat = { results: fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-scaling-')), runs: '/nonexistent/runs' };
  writeSynthetic(flat, (row, seed) => 50 + (row.startsWith('fm-') ? 0 : [0.3, -0.3, 0][seed]));
  const f = collectScaling(scaling, 'smoke', flat);
  assert.equal(f.sizeChanges[1].trend.fid.verdict, 'no difference');
  assert.equal(f.stepGain.fid.verdict, 'no difference');
  // One seed at the largest size: no verdict there, and the slope with a verdict is the one over the sizes with 3.
  fs.rmSync(path.join(flat.results, 'scaling', 'base', 'seed1.json'));
  fs.rmSync(path.join(flat.results, 'scaling', 'fm-base', 'seed2.json'));
  const one = collectScaling(scaling, 'smoke', flat);
  assert.equal(one.sizeChanges[1].trend.fid.verdict, 'too few seeds');
  assert.equal(one.sizeSlope.fid.verdict, 'too few seeds');
  assert.deepEqual(one.sizeSlopeEnough?.sizes, ['xs', 'small']);
  assert.equal(one.sizeSlopeEnough?.trend.fid.verdict, 'no difference');
  assert.deepEqual(one.pooledSizes, ['xs', 'small']);
});

function ablate(args: string[]): string {
  return execFileSync(process.execPath, [CLI, 'ablate', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('crossflow ablate scaling --profile smoke: training with kept checkpoints, the sampling step, the speed, REPORT.md, table.tex and figures', { timeout: 900_000 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-scaling-cli-'));
  const dirs = ['--results-dir', path.join(base, 'results'), '--runs-dir', path.join(base, 'runs')];
  const report = JSON.parse(ablate(['scaling', '--profile', 'smoke', '--jobs', '2', '--json', ...dirs]).trim().split('\n').pop()!);
  assert.deepEqual(report.sweeps.map((s: { ran: number; stage?: string }) => [s.stage ?? 'train', s.ran]), [['train', 6], ['sampling', 6]]);
  const dir = path.join(base, 'results', 'scaling');
  const steps = scaling.scales!.smoke.evalSteps!;
  for (const row of scaling.rows) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, row.name, 'seed0.json'), 'utf8'));
    assert.equal(r.command, `npx crossflow ablate scaling --profile smoke --rows ${row.name} --seed 0 ${dirs.join(' ')}`);
    assert.deepEqual(r.checkpoints.map((c: { step: number }) => c.step), steps);
    for (const c of r.checkpoints) assert.ok(Number.isFinite(c.metrics.fid) && c.metrics.fid > 0, `${row.name} step ${c.step}`);
    assert.deepEqual(r.metrics, r.checkpoints[r.checkpoints.length - 1].metrics, 'the run\'s metrics are its last checkpoint\'s');
    assert.equal(r.config.preset, row.preset);
    const s = JSON.parse(fs.readFileSync(path.join(dir, row.name, 'seed0-sampling.json'), 'utf8'));
    assert.equal(s.command, `npx crossflow ablate scaling --profile smoke --rows ${row.name} --seed 0 --sampling ${dirs.join(' ')}`);
    assert.equal(s.config_hash, r.config_hash);
    assert.deepEqual(s.points.map((p: { solver: string; nfe: number; cfg: number }) => `${p.solver}:${p.nfe}:w${p.cfg}`), [`euler:2:w${scaling.cfg}`, `heun:2:w${scaling.cfg}`, 'euler:2:w1']);
  }
  // Then the speed, every row in one process over the profile's rounds.
  const speedOf = () => JSON.parse(fs.readFileSync(path.join(dir, 'speed.json'), 'utf8'));
  const speed = speedOf();
  assert.equal(speed.command, `npx crossflow ablate scaling --profile smoke --speed ${dirs.join(' ')}`);
  assert.deepEqual(speed.rows.map((r: { row: string }) => r.row), ['xs', 'fm-xs', 'small', 'fm-small', 'base', 'fm-base']);
  for (const r of speed.rows) {
    assert.equal(r.guided.length, scaling.scales!.smoke.speed!.rounds);
    assert.ok([...r.guided, ...r.unguided].every((v: number) => v > 0), r.row);
  }
  const md = fs.readFileSync(path.join(dir, 'REPORT.md'), 'utf8');
  for (const h of ['## Parameters', '## Table 1 at our largest matched size (base)', '## CrossFlow minus flow matching, by size and training step', '## Does CrossFlow gain more from size, and from steps?', '## Sampling: quality against evaluations', '### Against the guidance weight', '## Sampling speed', '## What the curves show'])
    assert.ok(md.includes(h), h);
  assert.match(md, /\| CrossFlow \(paper\) \| 0\.95B \| – \| 10\.13 \| 0\.29 \|/);
  const tex = fs.readFileSync(path.join(dir, 'table.tex'), 'utf8');
  assert.equal(tex.split('\n').filter((l) => l.endsWith('\\\\')).length, 1 + 2 + scaling.rows.length);
  for (const fig of ['vs-params', 'vs-steps', 'vs-nfe', 'vs-cfg', 'speed', 'samples']) for (const ext of ['svg', 'png', 'pdf']) assert.ok(fs.existsSync(path.join(base, 'results', 'figures', `scaling-smoke-${fig}.${ext}`)), `${fig}.${ext}`);
  // Everything done: a second run does nothing; the sampling step alone, likewise.
  const again = JSON.parse(ablate(['scaling', '--profile', 'smoke', '--json', ...dirs]).trim().split('\n').pop()!);
  assert.deepEqual(again.sweeps.map((s: { ran: number; alreadyDone: number }) => [s.ran, s.alreadyDone]), [[0, 6], [0, 6]]);
  const alone = JSON.parse(ablate(['scaling', '--profile', 'smoke', '--sampling', '--json', ...dirs]).trim().split('\n').pop()!);
  assert.deepEqual(alone.sweeps.map((s: { stage?: string; alreadyDone: number }) => [s.stage, s.alreadyDone]), [['sampling', 6]]);
  assert.deepEqual(speedOf(), speed, 'a sweep with the speed measured does not measure it again');
  // --speed measures again (and regenerates the report); with a run's flags it refuses.
  ablate(['scaling', '--profile', 'smoke', '--speed', ...dirs]);
  assert.notDeepEqual(speedOf().seconds, speed.seconds);
  assert.throws(() => ablate(['scaling', '--profile', 'smoke', '--speed', '--rows', 'xs', ...dirs]), (e: { stderr: string }) => /--speed measures every row of the study at once.*--rows/.test(e.stderr));
  assert.throws(() => ablate(['encoder', '--profile', 'smoke', '--speed', ...dirs]), (e: { stderr: string }) => /--speed: encoder has no speed measurement \(studies with one: scaling\)/.test(e.stderr));
  assert.throws(() => ablate(['encoder', '--profile', 'smoke', '--sampling', '--dry-run', ...dirs]), (e: { stderr: string }) => /--sampling: encoder has no sampling step \(studies with one: scaling\)/.test(e.stderr));
});
