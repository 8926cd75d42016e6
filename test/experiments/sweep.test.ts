// Sweeps through the command line, as a researcher runs them: every study end to end in the smoke
// profile (result files, reports, LaTeX, figures, the overview), and a sweep killed partway that,
// resumed, ends with the same result files as an uninterrupted one, byte for byte apart from timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BEYOND_TABLE3, STUDIES, TABLE3_STUDIES } from '../../lib/experiments/studies/index';
import { LOCK_STALE_MS, lockOptions } from '../../lib/experiments/lock';
import { resultFiles, withoutTiming } from './resultFiles';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'crossflow.js');

function ablate(args: string[]): string {
  return execFileSync(process.execPath, [CLI, 'ablate', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}


test('every study runs end to end in the smoke profile: result files, REPORT.md, table.tex, figures, overview', { timeout: 600_000 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-ablate-'));
  const dirs = ['--results-dir', path.join(base, 'results'), '--runs-dir', path.join(base, 'runs')];
  const out = ablate(['table3', '--profile', 'smoke', '--jobs', '2', '--json', ...dirs]);
  const report = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(report.sweeps.length, TABLE3_STUDIES.length);
  // Rows two blocks share are one run (one run directory, trained and evaluated once).
  const runDirs = fs.readdirSync(path.join(base, 'runs')).filter((d) => !d.includes('.'));
  assert.equal(runDirs.length, 12, 'distinct runs of Table 3: 16 rows, 4 of them shared');
  for (const name of TABLE3_STUDIES) {
    const study = STUDIES[name];
    const dir = path.join(base, 'results', name);
    for (const row of study.rows) {
      const r = JSON.parse(fs.readFileSync(path.join(dir, row.name, 'seed0.json'), 'utf8'));
      assert.equal(r.command, `npx crossflow ablate ${name} --profile smoke --rows ${row.name} --seed 0 ${dirs.join(' ')}`);
      assert.ok(Number.isFinite(r.metrics.fid) && r.metrics.fid > 0, `${name}/${row.name}: fid ${r.metrics.fid}`);
      for (const k of ['single_seen', 'single_heldout', 'geneval_overall']) assert.ok(r.metrics[k] >= 0 && r.metrics[k] <= 1, `${name}/${row.name}: ${k}`);
      assert.equal(r.eval_settings.cfg, row.cfg ?? study.cfg);
    }
    const md = fs.readFileSync(path.join(dir, 'REPORT.md'), 'utf8');
    for (const row of study.rows) assert.ok(md.includes(`| ${row.label} |`), `${name}: REPORT.md lists ${row.label}`);
    assert.match(md, /## Verdicts/);
    const tex = fs.readFileSync(path.join(dir, 'table.tex'), 'utf8');
    assert.match(tex, /\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    assert.equal(tex.split('\n').filter((l) => l.endsWith('\\\\')).length, study.rows.length + 1);
    for (const kind of ['metrics', 'samples']) for (const ext of ['svg', 'png', 'pdf']) assert.ok(fs.existsSync(path.join(base, 'results', 'figures', `ablation-${name}-smoke-${kind}.${ext}`)), `${name} ${kind}.${ext}`);
  }
  const readme = fs.readFileSync(path.join(base, 'results', 'README.md'), 'utf8');
  const rows = [...TABLE3_STUDIES, ...BEYOND_TABLE3].reduce((s, n) => s + STUDIES[n].rows.length, 0);
  assert.equal(readme.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| block')).length, rows, 'Table 3, then the studies beyond it');
  for (const n of BEYOND_TABLE3) assert.ok(readme.includes(`## Beyond the table: ${STUDIES[n].title}`), n);
  assert.match(readme, /Compute \(both tables\): 12 distinct runs \(rows two blocks share are one run\)/, 'the compute line counts each shared run once');
  // The study outside Table 3: block c on the quickstart recipe.
  ablate(['guidance-recipe', '--profile', 'smoke', ...dirs]);
  const recipe = JSON.parse(fs.readFileSync(path.join(base, 'results', 'guidance-recipe', 'autoguidance', 'seed0.json'), 'utf8'));
  assert.deepEqual([recipe.config.model.predict, recipe.config.model.globalCond, recipe.config.enc.kind, recipe.config.guidance.mode], ['data', 'mlp', 'tt-contrast', 'autoguidance']);
  assert.ok(fs.existsSync(path.join(base, 'results', 'guidance-recipe', 'REPORT.md')));
  // A second sweep finds everything done and runs nothing.
  const again = JSON.parse(ablate(['encoder', '--profile', 'smoke', '--json', ...dirs]).trim().split('\n').pop()!);
  assert.equal(again.sweeps[0].ran, 0);
  assert.equal(again.sweeps[0].alreadyDone, 3);
});

test('a sweep killed partway, then resumed, ends with the result files of an uninterrupted sweep', { timeout: 600_000 }, async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-resume-'));
  const results = path.join(base, 'results');
  const runs = path.join(base, 'runs');
  const args = ['encoder', '--profile', 'smoke', '--rows', 'encoder,ve', '--seeds', '2', '--results-dir', results, '--runs-dir', runs];
  ablate(args);
  const clean = path.join(base, 'clean');
  fs.renameSync(results, clean);
  fs.rmSync(runs, { recursive: true });
  // Kill the sweep (and its children) as soon as some run has a checkpoint but is not finished.
  const child = spawn(process.execPath, [CLI, 'ablate', ...args], { cwd: ROOT, stdio: 'ignore', detached: true });
  const killedMidRun = await new Promise<boolean>((resolve) => {
    const poll = setInterval(() => {
      const dirs = fs.existsSync(runs) ? fs.readdirSync(runs).filter((d) => !d.includes('.')) : [];
      const half = dirs.some((d) => fs.existsSync(path.join(runs, d, 'checkpoint.ckpt')) && !fs.existsSync(path.join(runs, d, 'summary.json')));
      if (half) {
        clearInterval(poll);
        process.kill(-child.pid!, 'SIGKILL');
        resolve(true);
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(poll);
      resolve(false);
    });
  });
  assert.ok(killedMidRun, 'the sweep was killed with a half-trained run');
  const partial = fs.existsSync(results) ? resultFiles(results) : [];
  assert.ok(partial.length < resultFiles(clean).length, 'killed before the end');
  // The killed sweep's locks go stale once nobody has refreshed them for LOCK_STALE_MS: age them by that
  // much rather than wait it out.
  const locks = [results, runs].flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.lock')).map((f) => path.join(d, f)) : []));
  assert.ok(locks.length > 0, 'the killed sweep left its locks');
  const past = new Date(Date.now() - LOCK_STALE_MS - 1_000);
  for (const l of locks) fs.utimesSync(l, past, past);
  ablate(args);
  const resumed = resultFiles(results);
  assert.deepEqual(resumed, resultFiles(clean));
  for (const f of resumed) assert.equal(withoutTiming(path.join(results, f)), withoutTiming(path.join(clean, f)), f);
});

test('a second sweep of the same study on the same folder is refused with a clear message', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-lock-'));
  const lockfile = await import('proper-lockfile');
  const dir = path.join(base, 'results', 'encoder');
  fs.mkdirSync(dir, { recursive: true });
  const release = await lockfile.lock(dir, lockOptions(dir));
  try {
    assert.throws(() => ablate(['encoder', '--profile', 'smoke', '--results-dir', path.join(base, 'results'), '--runs-dir', path.join(base, 'runs')]), (e: { stderr: string }) => /another sweep of 'encoder' is running/.test(e.stderr));
  } finally {
    await release();
  }
});

test('bad input names the field and the allowed values', () => {
  const err = (args: string[]) => {
    try {
      ablate(args);
      return '';
    } catch (e) {
      return (e as { stderr: string }).stderr;
    }
  };
  assert.ok(err(['tabel3', '--dry-run']).includes(`study`) && err(['tabel3', '--dry-run']).includes([...Object.keys(STUDIES), 'table3'].join(', ')), 'the error lists every study');
  assert.match(err(['encoder', '--rows', 'vae', '--dry-run']), /--rows.*encoder, encoder-noise, ve/);
  assert.match(err(['encoder', '--profile', 'huge', '--dry-run']), /profile.*smoke, small, paper/);
  assert.match(err(['encoder', '--seed', '0']), /one study and one row/);
  assert.match(err(['encoder,vae', '--dry-run']), /invalid study: "vae"; allowed: .*table3, or several joined by commas/);
});

test('several studies joined by commas are one sweep: table3,guidance-recipe plans all six blocks, each once', () => {
  const plan = JSON.parse(ablate(['table3,guidance-recipe,encoder', '--profile', 'smoke', '--dry-run', '--json']).trim().split('\n').pop()!);
  assert.deepEqual(plan.studies.map((s: { study: string }) => s.study), [...TABLE3_STUDIES, 'guidance-recipe']);
});

test('--seed K --dry-run lists that one run and trains nothing', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-dry-'));
  const dirs = ['--results-dir', path.join(base, 'results'), '--runs-dir', path.join(base, 'runs')];
  const plan = JSON.parse(ablate(['encoder', '--profile', 'smoke', '--rows', 've', '--seed', '1', '--dry-run', '--json', ...dirs]).trim().split('\n').pop()!);
  assert.deepEqual(plan.studies[0].runs.map((r: { row: string; seed: number; status: string }) => [r.row, r.seed, r.status]), [['ve', 1, 'pending']]);
  assert.ok(!fs.existsSync(path.join(base, 'runs')), 'no run directory was made');
});

test('the run pool keeps J jobs busy across studies and never runs one run directory twice at once', async () => {
  const { runPool } = await import('../../lib/experiments/sweep');
  // Block a's last run is long; block b's runs must start beside it, not after it. b/x shares a's run
  // directory 'k1' (a row two blocks share): it waits for a/k1 to end, and the free worker takes b/y.
  const items = [
    { name: 'a/k0', key: 'k0', ms: 10 },
    { name: 'a/k1', key: 'k1', ms: 80 },
    { name: 'b/x', key: 'k1', ms: 5 },
    { name: 'b/y', key: 'k2', ms: 20 },
    { name: 'b/z', key: 'k3', ms: 20 },
  ];
  const events: string[] = [];
  let running = 0;
  let most = 0;
  const live = new Set<string>();
  await runPool(items, 2, (it) => it.key, async (it) => {
    assert.ok(!live.has(it.key), `${it.name}: its run directory is already running`);
    live.add(it.key);
    running++;
    most = Math.max(most, running);
    events.push(`start ${it.name}`);
    await new Promise((r) => setTimeout(r, it.ms));
    events.push(`end ${it.name}`);
    running--;
    live.delete(it.key);
  });
  assert.equal(most, 2, 'two at a time');
  assert.deepEqual(events.filter((e) => e.startsWith('start')).map((e) => e.slice(6)).sort(), items.map((i) => i.name).sort(), 'every item ran once');
  // b/y and b/z both started before the long a/k1 ended; b/x only after it.
  const at = (e: string) => events.indexOf(e);
  assert.ok(at('start b/y') < at('end a/k1') && at('start b/z') < at('end a/k1'), events.join(', '));
  assert.ok(at('start b/x') > at('end a/k1'), events.join(', '));
  // One job: strictly in queue order.
  const order: string[] = [];
  await runPool(items, 1, (it) => it.key, async (it) => {
    order.push(it.name);
  });
  assert.deepEqual(order, items.map((i) => i.name));
});
