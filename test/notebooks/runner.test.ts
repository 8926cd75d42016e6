// The notebook runner on throwaway notebooks executed for real on the tslab kernel: one good (with a
// parameters cell the runner fills), one with a failing cell, one whose cell leaves a promise rejection
// unawaited (tslab prints it and keeps the cell "ok"), one that throws inside a timer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeFailure, findFailingCell, htmlExportArgs, MATHJAX_FILE, mathjaxUrl, resolveNotebooks, runNotebooks, SKIP_MARK, type NotebookResult } from '../../lib/notebooks/runner';
import { withPage } from '../../lib/display/chromium';
import { repoPath } from '../../lib/paths';

/** A notebook with the tslab kernelspec; cells starting with '# ' are markdown, with '// Parameters' the parameters cell. */
function notebook(cells: string[]): object {
  return {
    cells: cells.map((source, i) =>
      source.startsWith('# ')
        ? { cell_type: 'markdown', id: `m${i}`, metadata: {}, source }
        : { cell_type: 'code', id: `c${i}`, execution_count: null, metadata: source.startsWith('// Parameters') ? { tags: ['parameters'] } : {}, outputs: [], source },
    ),
    metadata: {
      kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' },
      language_info: { name: 'typescript' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

const NOTEBOOKS: Record<string, string[]> = {
  good: [
    '# A good notebook',
    "// Parameters\nconst profile: string = 'small';\nconst sets: string[] = [];\nconst rerun: boolean = false;",
    'const answer: number = 6 * 7;\nconsole.error("a warning on stderr is not a failure");',
    'await new Promise((r) => setTimeout(r, 10));\nconsole.log(`profile=${profile} sets=${JSON.stringify(sets)} rerun=${rerun} env=${process.env.CROSSFLOW_PROFILE}/${process.env.CROSSFLOW_SET ?? "unset"} answer=${answer}`);',
    '# Formulas: inline $z_t = t\\,z_1$ and displayed $$v = z_1 - (1-s)\\,z_0.$$',
  ],
  throws: ['console.log("first");', '# Then it breaks', 'const data = [1, 2, 3];\nif (data.length === 3) throw new Error("bad data shape");', 'console.log("never runs");'],
  unawaited: ['console.log("first");', 'Promise.reject(new Error("nobody awaited me"));\nconsole.log("cell goes on");', 'console.log("never runs");'],
  timer: ['setTimeout(() => { throw new Error("thrown in a timer"); }, 0);', 'console.log("never runs");'],
};

let dir: string;
let results: Map<string, NotebookResult>;

const inherited = { CROSSFLOW_PROFILE: process.env.CROSSFLOW_PROFILE, CROSSFLOW_SET: process.env.CROSSFLOW_SET };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-runner-'));
  for (const [name, cells] of Object.entries(NOTEBOOKS)) fs.writeFileSync(path.join(dir, `${name}.ipynb`), JSON.stringify(notebook(cells)));
  // Inherited variables must not give the kernel another profile or overrides than its parameters cell.
  process.env.CROSSFLOW_PROFILE = 'paper';
  process.env.CROSSFLOW_SET = '["steps=99"]';
  const list = await runNotebooks({ profile: 'smoke', sets: ['steps=3', 'model.predict=data'], notebooksDir: dir, outDir: path.join(dir, 'out'), cellTimeoutS: 60 });
  results = new Map(list.map((r) => [r.name, r]));
});

after(() => {
  for (const [k, v] of Object.entries(inherited)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function executedCell(r: NotebookResult, index: number): { outputs: Array<{ output_type: string; text?: string[] | string; name?: string }> } {
  return JSON.parse(fs.readFileSync(r.ipynb!, 'utf8')).cells[index];
}
const outputText = (cell: ReturnType<typeof executedCell>): string =>
  cell.outputs.map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''))).join('');

test('runs every notebook of the folder, sorted', () => {
  assert.deepEqual([...results.keys()], ['good', 'throws', 'timer', 'unawaited']);
});

test('a good notebook passes and gets its executed .ipynb and .html', () => {
  const r = results.get('good')!;
  assert.equal(r.ok, true, describeFailure(r));
  assert.equal(r.failing_cell, null);
  assert.ok(r.seconds > 0);
  const printed = 'profile=smoke sets=["steps=3","model.predict=data"] rerun=true env=smoke/unset answer=42';
  assert.equal(outputText(executedCell(r, 3)), `${printed}\n`, 'the parameters cell got the profile, the sets and rerun (smoke); the fallback variable agrees; no inherited CROSSFLOW_SET');
  const html = fs.readFileSync(r.html!, 'utf8');
  assert.ok(html.includes('profile=smoke sets=') && html.includes('rerun=true env=smoke/unset answer=42'));
  // The executed copy shows what was set; the committed notebook and its folder are as they were.
  const params = JSON.parse(fs.readFileSync(r.ipynb!, 'utf8')).cells[1];
  assert.deepEqual(params.metadata.tags, ['parameters', 'injected-parameters']);
  assert.match(Array.isArray(params.source) ? params.source.join('') : params.source, /^\/\/ Parameters set by crossflow notebooks: profile, rerun, sets\n\/\/ Parameters\nconst profile: string = "smoke";\n/);
  assert.equal(fs.readFileSync(path.join(dir, 'good.ipynb'), 'utf8'), JSON.stringify(notebook(NOTEBOOKS.good)));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['good.ipynb', 'out', 'throws.ipynb', 'timer.ipynb', 'unawaited.ipynb'], 'no executed copy is left beside the notebooks');
});

test('a cell that throws fails the notebook, named by index and first line; later cells are skipped', () => {
  const r = results.get('throws')!;
  assert.equal(r.ok, false);
  assert.deepEqual(r.failing_cell, { index: 2, source: 'const data = [1, 2, 3];', message: 'Error: bad data shape' });
  assert.match(describeFailure(r), /^throws: cell 2 \(`const data = \[1, 2, 3\];`\) failed: Error: bad data shape$/);
  assert.equal(outputText(executedCell(r, 3)), `${SKIP_MARK}\n`);
  // The HTML shows the failure as an error output where it happened.
  assert.ok(JSON.parse(fs.readFileSync(r.ipynb!, 'utf8')).cells[2].outputs.some((o: { output_type: string }) => o.output_type === 'error'));
  assert.ok(fs.readFileSync(r.html!, 'utf8').includes('CellFailed'));
});

test('an unawaited promise rejection fails the notebook at the cell that made it', () => {
  const r = results.get('unawaited')!;
  assert.equal(r.ok, false);
  assert.equal(r.failing_cell?.index, 1);
  assert.equal(r.failing_cell?.source, 'Promise.reject(new Error("nobody awaited me"));');
  assert.match(r.failing_cell!.message, /unawaited promise rejected: Error: nobody awaited me/);
  // tslab's own print of it lands in the same cell.
  assert.match(outputText(executedCell(r, 1)), /UnhandledPromiseRejection: Error: nobody awaited me/);
});

test('a throw inside a timer fails the notebook', () => {
  const r = results.get('timer')!;
  assert.equal(r.ok, false);
  assert.equal(r.failing_cell?.index, 0);
  assert.match(r.failing_cell!.message, /uncaught exception.*Error: thrown in a timer/);
});

test('tslab prints without the kernel hook are recognised too', () => {
  const cell = (text: string) => ({ cell_type: 'code', source: ['x();\n', 'y();'], outputs: [{ output_type: 'stream', name: 'stderr', text: [text] }] });
  const failing = findFailingCell({
    cells: [
      { cell_type: 'markdown', source: 'UnhandledPromiseRejection: only text' },
      cell('a warning\n'),
      cell('UnhandledPromiseRejection: Error: late\n    at evalmachine.<anonymous>:3:87\n'),
    ],
  });
  assert.deepEqual(failing, { index: 2, source: 'x();', message: 'UnhandledPromiseRejection: Error: late' });
  const errorOutput = { cell_type: 'code', source: 'z', outputs: [{ output_type: 'error', ename: 'TypeError', evalue: 'nope', traceback: [] }] };
  assert.equal(findFailingCell({ cells: [errorOutput] })?.message, 'TypeError: nope');
});

test('names resolve with or without .ipynb; an unknown name lists the available ones', () => {
  assert.deepEqual(resolveNotebooks(['good.ipynb', 'timer'], dir), ['good', 'timer']);
  assert.throws(() => resolveNotebooks(['nope'], dir), /unknown notebook "nope" .*available: good, throws, timer, unawaited/);
});

test('the HTML loads MathJax from the mathjax package, by a path relative to the page, and its formulas render offline', async () => {
  // results/notebooks/<name>.html reaches the checkout's node_modules two folders up.
  assert.equal(mathjaxUrl(repoPath('results', 'notebooks')), '../../node_modules/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe');
  assert.ok(fs.statSync(MATHJAX_FILE).isFile(), `${MATHJAX_FILE} (npm package mathjax) is installed`);
  const args = htmlExportArgs('/x/out/nb.ipynb', repoPath('results', 'notebooks'), 'nb');
  assert.ok(args.includes('--HTMLExporter.mathjax_url=../../node_modules/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe'), args.join(' '));

  const r = results.get('good')!;
  const html = fs.readFileSync(r.html!, 'utf8');
  const src = /<script src="([^"]*MathJax\.js[^"]*)">/.exec(html)?.[1];
  assert.ok(src, 'a MathJax script tag');
  assert.equal(src, mathjaxUrl(path.dirname(r.html!)));
  assert.equal(path.resolve(path.dirname(r.html!), decodeURIComponent(src.split('?')[0])), MATHJAX_FILE, 'the page reaches the installed file');
  assert.ok(html.includes('$z_t = t\\,z_1$'), 'the markdown keeps its TeX for MathJax');

  // Opened as a file, as from the checkout (file://, so a CDN or server could not help): MathJax typesets both formulas.
  const rendered = await withPage(async (page) => {
    const failed: string[] = [];
    page.on('requestfailed', (q) => failed.push(q.url()));
    await page.goto(`file://${r.html}`);
    await page.waitForFunction(() => document.querySelectorAll('.MathJax_CHTML').length >= 2, null, { timeout: 30_000 });
    const counts = await page.evaluate(() => ({
      math: document.querySelectorAll('.MathJax_CHTML').length,
      display: document.querySelectorAll('.MJXc-display .MathJax_CHTML').length,
      rawTex: document.body.innerText.includes('$z_t'),
    }));
    return { ...counts, mathjaxFailed: failed.filter((u) => u.includes('mathjax')) };
  });
  assert.deepEqual(rendered, { math: 2, display: 1, rawTex: false, mathjaxFailed: [] });
});
