// Every lib/ module must be importable from a notebook. tslab compiles what a notebook imports
// with its own TypeScript 5.0 (ESNext modules, non-strict) and loads it with its own loader, so
// code that passes `tsc` can still break there: `import x = require(...)`, syntax newer than
// TS 5.0, imports of a folder by its name (tslab's loader only finds files: import '<folder>/index').
// And notebooks reach lib/ through the notebooks/lib symlink, where a path built from __dirname + '..'
// lands in notebooks/ (use repoPath() from lib/paths.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describeFailure, runNotebook } from '../../lib/notebooks/runner';
import { REPO_ROOT } from '../../lib/paths';

const LIB = path.join(REPO_ROOT, 'lib');

function libFiles(dir = LIB): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? libFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : []))
    .sort();
}

// Inside the repository (its tmp/ is git-ignored), so packages resolve from node_modules as they do for notebooks/.
fs.mkdirSync(path.join(REPO_ROOT, 'tmp'), { recursive: true });
const scratch = fs.mkdtempSync(path.join(REPO_ROOT, 'tmp', 'libkernel-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

test('every lib/ module compiles and loads in a tslab kernel (through a lib symlink, as notebooks do)', async () => {
  fs.symlinkSync(LIB, path.join(scratch, 'lib'));
  const modules = libFiles().map((f) => './lib/' + path.relative(LIB, f).replace(/\\/g, '/').replace(/\.ts$/, ''));
  const imports = modules.map((m, i) => `import * as m${i} from '${m}';`).join('\n');
  // Referencing each module keeps TypeScript from dropping the import, so each one is loaded.
  const use = `const loaded = [${modules.map((_, i) => `m${i}`).join(', ')}].filter((m) => typeof m === 'object').length;\nconsole.log(\`loaded \${loaded}\`);`;
  const nb = {
    cells: [{ cell_type: 'code', id: 'imports', execution_count: null, metadata: {}, outputs: [], source: `${imports}\n${use}` }],
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' }, language_info: { name: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(path.join(scratch, 'lib_imports.ipynb'), JSON.stringify(nb));
  const result = await runNotebook('lib_imports', { profile: 'smoke', notebooksDir: scratch, outDir: path.join(scratch, 'out') });
  const out = result.ipynb
    ? JSON.parse(fs.readFileSync(result.ipynb, 'utf8')).cells[0].outputs.map((o: { text?: string[] }) => (o.text ?? []).join('')).join('')
    : '';
  assert.ok(result.ok, `${describeFailure(result)}\nall of tslab's output:\n${out}`);
  assert.match(out, new RegExp(`loaded ${modules.length}\\b`));
});

test('no lib/ module builds repository paths from __dirname + ".." (wrong from notebooks; use repoPath)', () => {
  const climbing = /(?:resolve|join)\(\s*__dirname\s*,\s*['"]\.\.(?:['"\/])/;
  const offenders = libFiles()
    .filter((f) => f !== path.join(LIB, 'paths.ts'))
    .flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${path.relative(REPO_ROOT, f)}:${i + 1}` }))
        .filter(({ line }) => climbing.test(line) && !line.includes('realpath')),
    )
    .map(({ at, line }) => `${at}: ${line.trim()}`);
  assert.equal(offenders.length, 0, `replace with repoPath(...) from lib/paths.ts:\n${offenders.join('\n')}`);
});

/** Every relative import specifier of a file (or of a notebook's code cells), with the folder it is relative to. */
function relativeImports(file: string): Array<{ spec: string; from: string }> {
  const specifier = /(?:from|import|require)\s*\(?\s*['"](\.{1,2}\/[^'"]*)['"]/g;
  let text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.ipynb')) {
    const cells = (JSON.parse(text) as { cells: Array<{ cell_type: string; source: string | string[] }> }).cells;
    text = cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
  }
  return [...text.matchAll(specifier)].map((m) => ({ spec: m[1], from: path.dirname(file) }));
}

test("no lib/ module, test or notebook imports a folder: tslab's loader finds only files, so a folder's index is named", () => {
  const tests = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tests(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const notebooksDir = path.join(REPO_ROOT, 'notebooks');
  const notebooks = fs.readdirSync(notebooksDir).filter((f) => f.endsWith('.ipynb')).map((f) => path.join(notebooksDir, f));
  const files = [...libFiles(), ...tests(path.join(REPO_ROOT, 'test')), ...notebooks];
  const offenders: string[] = [];
  for (const file of files) {
    for (const { spec, from } of relativeImports(file)) {
      const target = path.resolve(from, spec);
      if (fs.existsSync(target) && fs.statSync(target).isDirectory()) offenders.push(`${path.relative(REPO_ROOT, file)} imports '${spec}'`);
    }
  }
  assert.equal(offenders.length, 0, `import the folder's index file ('<folder>/index') or the module itself:\n${offenders.join('\n')}`);
  // The index files of the folders that once had a re-exporting sibling load in a kernel like every lib/ file
  // (the first test imports all of lib/), and the siblings are gone.
  for (const folder of ['data/shapes', 'eval/judges', 'eval/captions']) {
    assert.ok(fs.existsSync(path.join(LIB, folder, 'index.ts')), folder);
    assert.ok(!fs.existsSync(path.join(LIB, `${folder}.ts`)), `lib/${folder}.ts re-exported ${folder}/index: import the index instead`);
  }
});
