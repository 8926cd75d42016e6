import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { quickstartConfig, quickstartName, quickstartPaths, quickstartPerPrompt, writeQuickstartResult, QuickstartRow, QUICKSTART_RECIPE, QUICKSTART_SAMPLE_SEED } from '../../lib/notebooks/quickstart';
import { applyOverrides } from '../../lib/config/overrides';
import { configSets, CONFIG_SETS_ENV } from '../../lib/notebooks/profile';
import { presetConfig } from '../../lib/models/presets';
import type { TrainResult } from '../../lib/train/trainer';
import { accuracyByShape, addConfusions, attributeDistances, shapeConfusion } from '../../lib/runs/singleObject';

/** The words of a shell command line: bare words, or JSON-style double-quoted strings (as writeQuickstartResult quotes). */
function shellWords(command: string): string[] {
  return (command.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? []).map((w) => (w.startsWith('"') ? (JSON.parse(w) as string) : w));
}

/** The --set values of a `crossflow notebooks` command line. */
function setsOf(command: string): string[] {
  const words = shellWords(command);
  const at = words.indexOf('--set');
  return at < 0 ? [] : words.slice(at + 1);
}

test('the quickstart result file: named by profile and sets, a command that rebuilds its config, sampling settings from the config', () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cf-quickstart-')), 'not', 'yet', 'made');
  const result = {
    out: '/x', steps: 12, resumedFrom: 0, seconds: 730.5, counts: { flow: 1, ve: 2, aux: 3, model: 3 }, lastLoss: 1.5, stoppedEarly: false,
    autoencoder: { psnr: 29.5, seconds: 51, file: '/ae' },
  } as unknown as TrainResult;
  const rows: QuickstartRow[] = [{ prompts: 'seen', n: 160, accuracy: 0.4, color: 0.9, shape: 0.4, one_object: 0.7 }];

  // The default run: its command is the notebook's own, with no --set.
  const plain = quickstartConfig('small', []);
  const file = writeQuickstartResult('small', { backend: 'native', config: plain, result, rows, perPrompt: { seen: 8, heldout: 32 } }, dir, []);
  assert.equal(file, path.join(dir, 'single_object-small.json'), 'the folder is made on demand');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.endsWith('}\n'));
  const r = JSON.parse(text);
  assert.equal(r.command, 'npx crossflow notebooks --profile small 02_quickstart   (npm start runs it with profile small)');
  assert.deepEqual(r.quickstart_recipe, QUICKSTART_RECIPE);
  // Sampling is described by the config, not by the caller: w = guidance.scale, sample.steps, the fixed seed.
  assert.deepEqual(r.sampling, { cfg: presetConfig('small').guidance.scale, steps: presetConfig('small').sample.steps, seed: QUICKSTART_SAMPLE_SEED, per_prompt: { seen: 8, heldout: 32 } });

  // With sets, one of which a shell would mangle without quotes: the file is named by their hash, and the command's
  // --set words, split as a shell splits them, rebuild exactly the config the run used.
  const sets = ['steps=12', 'guidance.scale=+2.5', 'optim.lr=2e-4'];
  const config = quickstartConfig('small', sets);
  assert.equal(config.guidance.badStep, 3, 'a quarter of the 12 steps');
  const withSets = JSON.parse(fs.readFileSync(writeQuickstartResult('small', { backend: 'native', config, result, rows, perPrompt: { seen: 2, heldout: 2 } }, dir, sets), 'utf8'));
  assert.ok(fs.existsSync(path.join(dir, `single_object-${quickstartName('small', sets)}.json`)));
  assert.match(withSets.command, /--set steps=12 "guidance\.scale=\+2\.5" optim\.lr=2e-4$/);
  assert.deepEqual(setsOf(withSets.command), sets);
  assert.deepEqual(quickstartConfig('small', setsOf(withSets.command)), withSets.config);
  assert.deepEqual(withSets.sampling, { cfg: 2.5, steps: config.sample.steps, seed: QUICKSTART_SAMPLE_SEED, per_prompt: { seen: 2, heldout: 2 } });
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), r, 'the default run\'s file is left alone');

  // The paper profile trains without the recipe, and a run without an autoencoder records none.
  const paper = JSON.parse(fs.readFileSync(writeQuickstartResult('paper', { backend: 'cpu', config: quickstartConfig('paper', []), result: { ...result, autoencoder: null }, rows, perPrompt: { seen: 8, heldout: 32 } }, dir, []), 'utf8'));
  assert.deepEqual(paper.quickstart_recipe, []);
  assert.equal(paper.autoencoder_psnr, null);
  assert.equal(paper.command, 'npx crossflow notebooks --profile paper 02_quickstart   (npm start runs it with profile small)');
});

test('accuracy by shape is the mean over the prompts naming each shape', () => {
  const perPrompt = [
    { prompt: 'a red circle', accuracy: 1 },
    { prompt: 'a blue circle', accuracy: 0.5 },
    { prompt: 'an orange diamond', accuracy: 0.125 },
    { prompt: 'a green square', accuracy: 0 },
  ];
  assert.deepEqual(accuracyByShape(perPrompt), { circle: 0.75, square: 0, diamond: 0.125 });
  assert.deepEqual(accuracyByShape([]), {});
});

test('attributeDistances: mean L2 between VE means of captions differing only in shape, or only in colour', () => {
  const mus = new Map<string, number[]>([
    ['a red circle', [0, 0]],
    ['a red square', [3, 4]], // 5 from the red circle
    ['a blue circle', [0, 1]], // 1 from the red circle
    ['a blue square', [3, 4]], // sqrt(18) from the blue circle, 0 from the red square
    ['a red diamond', [0, 0]], // 0 from the red circle, 5 from the red square
  ]);
  const d = attributeDistances(mus);
  assert.ok(Math.abs(d.shape['circle-square'] - (5 + Math.sqrt(18)) / 2) < 1e-12);
  assert.equal(d.shape['circle-diamond'], 0);
  assert.equal(d.shape['square-diamond'], 5);
  assert.deepEqual(Object.keys(d.shape).sort(), ['circle-diamond', 'circle-square', 'square-diamond']);
  assert.equal(d.color, (1 + 0) / 2); // circles 1 apart, squares 0 apart; cross pairs are not counted
});

test('shapeConfusion counts what was read per prompted shape; addConfusions adds tables cell by cell', () => {
  const t = shapeConfusion([
    { want: 'diamond', read: 'circle' },
    { want: 'diamond', read: 'diamond' },
    { want: 'diamond', read: 'circle' },
    { want: 'diamond', read: null },
    { want: 'circle', read: 'circle' },
  ]);
  assert.deepEqual(Object.keys(t), ['circle', 'diamond']); // SHAPES order, prompted shapes only
  assert.deepEqual(t.diamond, { circle: 2, square: 0, triangle: 0, diamond: 1, none: 1 });
  assert.deepEqual(t.circle, { circle: 1, square: 0, triangle: 0, diamond: 0, none: 0 });
  const u = shapeConfusion([{ want: 'square', read: 'diamond' }, { want: 'diamond', read: 'diamond' }]);
  const sum = addConfusions([t, u]);
  assert.deepEqual(Object.keys(sum), ['circle', 'square', 'diamond']);
  assert.deepEqual(sum.diamond, { circle: 2, square: 0, triangle: 0, diamond: 2, none: 1 });
  assert.deepEqual(sum.square, { circle: 0, square: 0, triangle: 0, diamond: 1, none: 0 });
  assert.throws(() => shapeConfusion([{ want: 'star', read: 'circle' }]), /prompted shape "star"/);
  assert.throws(() => shapeConfusion([{ want: 'circle', read: 'star' }]), /read shape "star"/);
});

test('crossflow notebooks --set: the quickstart config, run directory and result file follow the overrides', () => {
  const sets = ['model.predict=data', 'model.globalCond=mlp', 'enc.kind=tt-contrast', 'steps=5000'];
  const c = quickstartConfig('small', sets);
  assert.equal(c.model.predict, 'data');
  assert.equal(c.model.globalCond, 'mlp');
  assert.equal(c.enc.kind, 'tt-contrast');
  assert.equal(c.steps, 5000);
  // No sets: the `small` preset with the quickstart recipe, the bad model a quarter of the way in.
  const plain = quickstartConfig('small', []);
  assert.deepEqual(plain, { ...applyOverrides(presetConfig('small'), QUICKSTART_RECIPE), guidance: { ...plain.guidance } });
  assert.equal(plain.steps, 5000);
  assert.equal(plain.guidance.mode, 'autoguidance');
  assert.equal(plain.guidance.badStep, 1250);
  assert.equal(quickstartConfig('smoke', []).guidance.badStep, 10); // a quarter of smoke's 40 steps
  assert.equal(quickstartConfig('small', ['guidance.badStep=2500']).guidance.badStep, 2500); // an explicit one is kept
  // The notebook's markdown names the sets that give back the paper's configuration: they must.
  assert.deepEqual(quickstartConfig('small', ['guidance.mode=indicator', 'enc.kind=it-contrast', 'model.predict=velocity', 'model.globalCond=none', 'steps=4000']), presetConfig('small'));
  const md = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'notebooks', '02_quickstart.ipynb'), 'utf8')).cells.map((c: { source: string | string[] }) => [c.source].flat().join('')).join('\n');
  assert.ok(md.includes('--set guidance.mode=indicator enc.kind=it-contrast model.predict=velocity model.globalCond=none steps=4000'));
  assert.ok(md.includes(`--steps 5000 --set ${QUICKSTART_RECIPE.filter((x) => !x.startsWith('steps=')).join(' ')} guidance.badStep=1250`));
  // The paper's configuration, with the indicator, is one --set away and keeps its own badStep (unused).
  const paper = quickstartConfig('small', ['guidance.mode=indicator']);
  assert.equal(paper.guidance.mode, 'indicator');
  assert.equal(paper.guidance.badStep, presetConfig('small').guidance.badStep);
  // Smoke keeps its own sizes and takes the overrides on top.
  assert.equal(quickstartConfig('smoke', ['model.predict=data']).model.width, 64);
  assert.throws(() => quickstartConfig('small', ['model.predict=noise']), /model\.predict/);

  assert.equal(quickstartName('small', []), 'small');
  const name = quickstartName('small', sets);
  assert.match(name, /^small-set-[0-9a-f]{8}$/);
  assert.notEqual(name, quickstartName('small', sets.slice(1)));
  // The run directory follows the whole config: other sets (or a new default) train afresh rather than refuse to resume.
  assert.match(quickstartPaths('small', []).runDir, /[/\\]\.cache[/\\]runs[/\\]quickstart-small-[0-9a-f]{8}$/);
  assert.notEqual(quickstartPaths('small', ['optim.lr=1e-3']).runDir, quickstartPaths('small', []).runDir);
  // Sets that only restate the default config share the default's run (but not its result file).
  assert.equal(quickstartPaths('small', sets).runDir, quickstartPaths('small', []).runDir);
  assert.equal(quickstartPaths('small', sets).runDir, quickstartPaths('small', [...sets]).runDir);
  assert.equal(quickstartPaths('small', sets).name, name);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-quickstart-sets-'));
  const result = { out: '/x', steps: 5000, resumedFrom: 0, seconds: 780, counts: { flow: 1, ve: 2, aux: 3, model: 3 }, lastLoss: 1, stoppedEarly: false, autoencoder: null } as unknown as TrainResult;
  const file = writeQuickstartResult('small', { backend: 'native', config: c, result, rows: [], perPrompt: { seen: 8, heldout: 32 } }, dir, sets);
  assert.equal(path.basename(file), `single_object-${name}.json`);
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(r.command, `npx crossflow notebooks --profile small 02_quickstart --set ${sets.join(' ')}`);
  assert.deepEqual(r.sets, sets);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('configSets reads CROSSFLOW_SET (a JSON array of strings) and names the variable when it is malformed', () => {
  const before = process.env[CONFIG_SETS_ENV];
  try {
    delete process.env[CONFIG_SETS_ENV];
    assert.deepEqual(configSets(), []);
    process.env[CONFIG_SETS_ENV] = JSON.stringify(['steps=10', 'model.predict=data']);
    assert.deepEqual(configSets(), ['steps=10', 'model.predict=data']);
    process.env[CONFIG_SETS_ENV] = 'steps=10';
    assert.throws(() => configSets(), /CROSSFLOW_SET must be a JSON array/);
    process.env[CONFIG_SETS_ENV] = '[1, 2]';
    assert.throws(() => configSets(), /CROSSFLOW_SET must be a JSON array/);
  } finally {
    if (before === undefined) delete process.env[CONFIG_SETS_ENV];
    else process.env[CONFIG_SETS_ENV] = before;
  }
});

test('the quickstart scores held-out pairs with 32 samples per prompt (4 prompts), seen pairs with 8 (20 prompts)', () => {
  assert.deepEqual(quickstartPerPrompt('small'), { seen: 8, heldout: 32 });
  assert.deepEqual(quickstartPerPrompt('smoke'), { seen: 1, heldout: 1 });
});
