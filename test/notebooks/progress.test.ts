// Training progress of a notebook on the terminal: the kernel's notebookProgress appends JSON records to the file
// named in CROSSFLOW_PROGRESS_FILE, and the runner's ProgressTail reads the new complete lines and logs the latest,
// throttled. Checked piece by piece with real records, then end to end on a tslab kernel.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatProgress, ProgressTail } from '../../lib/notebooks/progressTail';
import { runNotebook } from '../../lib/notebooks/runner';
import { REPO_ROOT } from '../../lib/paths';
import { notebookProgress, progressFileWriter, PROGRESS_FILE_ENV, ProgressInfo, ProgressRecord } from '../../lib/train/progress';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-progress-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** What the trainer reports after `step` of `total` steps, 0.5 s a step. */
function info(step: number, total: number, stage: ProgressInfo['stage'] = 'model', loss = 1 / step): ProgressInfo {
  return { step, total, stage, phase: 'joint', loss, flow: loss / 2, enc: 0.1, kl: 3, lr: 1e-3, elapsedS: step * 0.5, etaS: (total - step) * 0.5 };
}

test('formatProgress: stage, step/total with percent, loss, elapsed and ETA', () => {
  const r: ProgressRecord = { stage: 'model', step: 1200, total: 5000, phase: 'joint', loss: 0.43214, elapsedS: 190, etaS: 602 };
  assert.equal(formatProgress('02_quickstart', r), '02_quickstart: training step 1200/5000 (24%) | joint loss 0.4321 | 3m10s elapsed, ETA 10m02s');
  assert.equal(
    formatProgress('02_quickstart', { ...r, stage: 'autoencoder', step: 40, total: 2000, loss: null, elapsedS: 9, etaS: null }),
    '02_quickstart: autoencoder step 40/2000 (2%) | loss ? | 9s elapsed, ETA ?',
  );
});

test('the kernel side: notebookProgress writes the records it displays to CROSSFLOW_PROGRESS_FILE', () => {
  const file = path.join(scratch, 'kernel.jsonl');
  assert.equal(progressFileWriter({}), null, 'nothing is written without the variable');
  const before = process.env[PROGRESS_FILE_ENV];
  const write = process.stdout.write.bind(process.stdout);
  let shown = '';
  process.env[PROGRESS_FILE_ENV] = file;
  process.stdout.write = ((chunk: string) => ((shown += chunk), true)) as typeof process.stdout.write;
  try {
    const show = notebookProgress(60_000); // within a minute only stage starts and ends get through
    show(info(1, 3, 'autoencoder'));
    show(info(2, 3, 'autoencoder')); // throttled
    show(info(3, 3, 'autoencoder', NaN)); // a stage's last step always
    for (let s = 1; s <= 4; s++) show(info(s, 4));
  } finally {
    process.stdout.write = write;
    if (before === undefined) delete process.env[PROGRESS_FILE_ENV];
    else process.env[PROGRESS_FILE_ENV] = before;
  }
  const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProgressRecord);
  assert.deepEqual(records.map((r) => `${r.stage} ${r.step}/${r.total}`), ['autoencoder 1/3', 'autoencoder 3/3', 'model 1/4', 'model 4/4']);
  assert.deepEqual(records[3], { stage: 'model', step: 4, total: 4, phase: 'joint', loss: 0.25, elapsedS: 2, etaS: 0 });
  assert.equal(records[1].loss, null, 'a NaN loss is written as null');
  assert.match(shown, /100% step 4\/4 \| joint loss 0\.2500/, 'the notebook still shows its own line');
  // A writer whose file cannot be written turns itself off instead of failing the training.
  const broken = progressFileWriter({ [PROGRESS_FILE_ENV]: path.join(scratch, 'no-such-dir', 'x.jsonl') })!;
  assert.doesNotThrow(() => broken(info(1, 2)));
});

test('ProgressTail: new complete lines only, the latest every everyMs, each stage\'s first and last step always', () => {
  const file = path.join(scratch, 'tail.jsonl');
  const logged: string[] = [];
  const tail = new ProgressTail(file, 'nb', (m) => logged.push(m), 10_000);
  tail.poll(0); // no file yet: nothing, no error
  assert.deepEqual(logged, []);
  const put = progressFileWriter({ [PROGRESS_FILE_ENV]: file })!;
  put(info(1, 100)); // the stage starts: shown at once
  put(info(2, 100));
  tail.poll(1000);
  assert.deepEqual(logged, ['nb: training step 1/100 (1%) | joint loss 1.0000 | 1s elapsed, ETA 50s']);
  put(info(3, 100));
  tail.poll(5000); // 4 s after the last line: throttled
  assert.equal(logged.length, 1);
  // A record the kernel is half-way through writing is left for the next poll.
  const next = JSON.stringify({ stage: 'model', step: 4, total: 100, phase: 'joint', loss: 0.25, elapsedS: 2, etaS: 48 });
  fs.appendFileSync(file, next.slice(0, 20));
  tail.poll(11_000); // due: the latest complete record is step 3
  assert.equal(logged[1], 'nb: training step 3/100 (3%) | joint loss 0.3333 | 2s elapsed, ETA 49s');
  fs.appendFileSync(file, next.slice(20) + '\n');
  tail.poll(12_000);
  assert.equal(logged.length, 2, 'step 4 waits for its turn');
  tail.poll(21_000);
  assert.equal(logged[2], 'nb: training step 4/100 (4%) | joint loss 0.2500 | 2s elapsed, ETA 48s');
  tail.poll(40_000);
  assert.equal(logged.length, 3, 'nothing new, nothing repeated');
  put(info(99, 100));
  put(info(100, 100)); // the last step: shown at once
  tail.poll(41_000);
  assert.equal(logged[3], 'nb: training step 100/100 (100%) | joint loss 0.0100 | 50s elapsed, ETA 0s');
  fs.appendFileSync(file, 'not json\n');
  put(info(7, 8, 'autoencoder')); // a new stage: shown at once; the stray line is skipped
  tail.stop();
  assert.deepEqual(logged.slice(4), ['nb: autoencoder step 7/8 (87%) | loss 0.1429 | 4s elapsed, ETA 1s']);
});

test('crossflow notebooks shows a training notebook\'s progress on its log while the kernel runs', async () => {
  // Inside the repository (tmp/ is git-ignored) with a lib symlink, as notebooks/ has.
  fs.mkdirSync(path.join(REPO_ROOT, 'tmp'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(REPO_ROOT, 'tmp', 'progress-'));
  try {
    fs.symlinkSync(path.join(REPO_ROOT, 'lib'), path.join(dir, 'lib'));
    const source = [
      "import { notebookProgress } from './lib/train/progress';",
      'const show = notebookProgress(0);',
      'for (let step = 1; step <= 6; step++) {',
      "  show({ stage: 'model', step, total: 6, phase: 'joint', loss: 1 / step, flow: 0, enc: 0, kl: 0, lr: 0, elapsedS: 2 * step, etaS: 2 * (6 - step) });",
      '  await new Promise((r) => setTimeout(r, 400));',
      '}',
    ].join('\n');
    const nb = {
      cells: [{ cell_type: 'code', id: 'train', execution_count: null, metadata: {}, outputs: [], source }],
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' }, language_info: { name: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    fs.writeFileSync(path.join(dir, 'trains.ipynb'), JSON.stringify(nb));
    const logged: string[] = [];
    const r = await runNotebook('trains', { profile: 'smoke', notebooksDir: dir, outDir: path.join(dir, 'out'), log: (m) => logged.push(m), progressEveryS: 3600 });
    assert.ok(r.ok, r.error ?? JSON.stringify(r.failing_cell));
    // With an hour between lines, exactly the stage's first and last step are shown.
    assert.deepEqual(logged, [
      '[notebooks] trains: training step 1/6 (16%) | joint loss 1.0000 | 2s elapsed, ETA 10s',
      '[notebooks] trains: training step 6/6 (100%) | joint loss 0.1667 | 12s elapsed, ETA 0s',
    ]);
    // Without a log, the kernel gets no progress file at all.
    const quiet = await runNotebook('trains', { profile: 'smoke', notebooksDir: dir, outDir: path.join(dir, 'out') });
    assert.ok(quiet.ok);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
