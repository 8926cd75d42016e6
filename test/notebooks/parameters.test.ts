// Notebook parameters (papermill style): the runner rewrites the values it is given into the one cell tagged
// `parameters` of the copy it executes. Unit tests on notebook JSON (no kernel), and checks that every committed
// notebook has such a cell and takes its profile and overrides from it, not from environment variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { declaredParameters, injectParameters, INJECTED_TAG, listNotebooks, NOTEBOOKS_DIR, parametersCellIndex, runnerParameters, type NbCell } from '../../lib/notebooks/runner';

type Cell = NbCell;
const code = (source: string | string[], tags?: string[]): Cell => ({ cell_type: 'code', metadata: tags ? { tags } : {}, source, outputs: [] });
const text = (c: NbCell): string => (Array.isArray(c.source) ? c.source.join('') : c.source);

const PARAMS = [
  '// Parameters (crossflow notebooks fills them).\n',
  "const profile: string = 'small';\n",
  'const rerun: boolean = false; // true: recompute\n',
  "const seeds: number | undefined = undefined; // the profile's\n",
  'const sets: string[] = [\n',
  "  'model.depth=2', // a comment inside\n",
  "  'steps=3',\n",
  '];\n',
  'const jobs = 2 // no semicolon\n',
  "const label = 'a; b // not a comment';",
];
const notebook = () => ({
  cells: [code("import { x } from './lib/x';"), { cell_type: 'markdown', metadata: {}, source: '# Title' }, code(PARAMS, ['parameters']), code('console.log(profile, sets);')],
  metadata: {},
});

test('the parameters cell gets the given values as literals; everything else in it, and every other cell, stays', () => {
  const nb = notebook();
  const before = JSON.stringify(nb);
  const { notebook: out, injected } = injectParameters(nb, { profile: 'smoke', rerun: true, sets: ['steps=10', 'text.prompt=a "red" circle'], unused: 1 }, 'demo');
  assert.equal(JSON.stringify(nb), before, 'the given notebook is not modified');
  assert.deepEqual(injected, ['profile', 'rerun', 'sets']);
  assert.equal(
    text(out.cells[2] as Cell),
    [
      '// Parameters set by crossflow notebooks: profile, rerun, sets',
      '// Parameters (crossflow notebooks fills them).',
      'const profile: string = "smoke";',
      'const rerun: boolean = true; // true: recompute',
      "const seeds: number | undefined = undefined; // the profile's",
      'const sets: string[] = ["steps=10","text.prompt=a \\"red\\" circle"];',
      'const jobs = 2 // no semicolon',
      "const label = 'a; b // not a comment';",
    ].join('\n'),
  );
  assert.deepEqual(out.cells[2].metadata?.tags, ['parameters', INJECTED_TAG]);
  for (const i of [0, 1, 3]) assert.equal(out.cells[i], nb.cells[i]);
  // Values without a semicolon or next to a string holding ';' and '//' are found too.
  const { notebook: out2 } = injectParameters(notebook(), { profile: 'paper', jobs: 1, label: 'x' });
  assert.match(text(out2.cells[2] as Cell), /\nconst jobs = 1 \/\/ no semicolon\nconst label = "x";$/);
});

test('no parameters cell: unchanged; two, imports in it, or no profile: errors naming the notebook and cell', () => {
  const plain = { cells: [code('console.log(1);')], metadata: {} };
  assert.deepEqual(injectParameters(plain, { profile: 'smoke' }), { notebook: plain, injected: [] });
  const two = { cells: [code("const profile = 'small';", ['parameters']), code('const rerun = false;', ['parameters'])], metadata: {} };
  assert.throws(() => injectParameters(two, { profile: 'smoke' }, 'two'), /^CrossflowError: two: cells 0 and 1 are both tagged "parameters"/);
  const withImport = { cells: [code("import { x } from './lib/x';\nconst profile = 'small';", ['parameters'])], metadata: {} };
  assert.throws(() => injectParameters(withImport, { profile: 'smoke' }, 'imp'), /imp: its parameters cell \(cell 0\) has import statements; keep imports in a cell of their own before it/);
  const noProfile = { cells: [code('const rerun = false;', ['parameters'])], metadata: {} };
  assert.throws(() => injectParameters(noProfile, { profile: 'smoke' }, 'np'), /np: its parameters cell \(cell 0\) declares no profile \(declares: rerun\)/);
});

test('what the runner gives: the profile; rerun only in smoke; sets only when given', () => {
  assert.deepEqual(runnerParameters({ profile: 'small' }), { profile: 'small' });
  assert.deepEqual(runnerParameters({ profile: 'smoke', sets: ['steps=1'] }), { profile: 'smoke', rerun: true, sets: ['steps=1'] });
});

test('every committed notebook has one parameters cell (after its imports, without any) declaring profile; the quickstart also sets', () => {
  const names = listNotebooks();
  assert.ok(names.length >= 9, names.join(', '));
  for (const name of names) {
    const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS_DIR, `${name}.ipynb`), 'utf8')) as { cells: Cell[] };
    const index = parametersCellIndex(nb, name);
    assert.ok(index >= 0, `${name} has a cell tagged "parameters"`);
    const declared = declaredParameters(text(nb.cells[index]));
    assert.ok(declared.includes('profile'), `${name} declares profile`);
    // Typed string: a const of a union type narrows to its literal, and a later profile === 'smoke' then fails to
    // compile in every profile but the one written there (20_latent_arithmetic did so in the small profile).
    assert.match(text(nb.cells[index]), /^const profile: string = /m, `${name} declares profile as a string`);
    if (name === '02_quickstart') assert.ok(declared.includes('sets'), `${name} declares sets`);
    const { notebook: out, injected } = injectParameters(nb, runnerParameters({ profile: 'smoke', sets: ['steps=2'] }), name);
    assert.match(text(out.cells[index]), /^const profile(: [^=]+)? = "smoke";/m, name);
    if (name === '02_quickstart') assert.ok(injected.includes('sets') && text(out.cells[index]).includes('["steps=2"]'), name);
    // Imports come before the parameters, in their own cell(s).
    const firstImport = nb.cells.findIndex((c) => c.cell_type === 'code' && /^import /m.test(text(c)));
    assert.ok(firstImport < index, `${name}: imports (cell ${firstImport}) come before the parameters cell (${index})`);
  }
});

test('committed notebooks take profile and overrides from their parameters, never from environment variables or profile()', () => {
  for (const name of listNotebooks()) {
    const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS_DIR, `${name}.ipynb`), 'utf8')) as { cells: Cell[] };
    for (const [i, cell] of nb.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const src = text(cell);
      assert.doesNotMatch(src, /process\.env\.CROSSFLOW_(PROFILE|SET)|\bconfigSets\(|\bprofile\(\)/, `${name} cell ${i}`);
      // byProfile is given the profile explicitly (its one-argument form reads the environment).
      for (const m of src.matchAll(/\bbyProfile\(/g)) {
        let depth = 0;
        let j = m.index! + 'byProfile'.length;
        for (; j < src.length; j++) {
          if (src[j] === '(' || src[j] === '{' || src[j] === '[') depth++;
          if (src[j] === ')' || src[j] === '}' || src[j] === ']') depth--;
          if (depth === 0) break;
        }
        assert.match(src.slice(m.index!, j + 1), /,\s*profile\s*\)$/, `${name} cell ${i}: byProfile(..., profile)`);
      }
      // tslab: shorthand properties naming the parameters are not rewritten ({ profile } fails in a later cell).
      const code = src.split('\n').filter((l) => !/^\s*import\b/.test(l)).join('\n');
      assert.doesNotMatch(code, /(?:(?<!\$)\{|,)\s*(profile|sets|rerun|seeds|jobs)\s*[,}]/, `${name} cell ${i}: write { profile: profile }`);
    }
  }
});
