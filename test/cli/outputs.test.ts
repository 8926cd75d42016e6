// Output paths: an --out that names an existing file (or lies under one), or a --save that names a directory, is an
// error naming the option, the path and what it must be, raised before any work; never a bare EEXIST / ENOTDIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { checkOutputDir, checkOutputFile, CrossflowError, ensureOutputDir } from '../../lib/errors';

const BIN = path.join(__dirname, '..', '..', 'bin', 'crossflow.js');
let dir: string;
let file: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-outputs-'));
  file = path.join(dir, 'notes.txt');
  fs.writeFileSync(file, 'not a directory\n');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('checkOutputDir: an existing directory or a new path passes; a file, or a path under a file, is named', () => {
  assert.equal(checkOutputDir('--out', dir), dir);
  const fresh = path.join(dir, 'a', 'b');
  assert.equal(checkOutputDir('--out', fresh), fresh);
  assert.ok(!fs.existsSync(path.join(dir, 'a')), 'checking creates nothing');
  assert.throws(() => checkOutputDir('--out', file), (err: Error) => {
    assert.ok(err instanceof CrossflowError);
    assert.equal(err.message, `--out ${file} is an existing file, not a directory: --out must name a directory (an existing one or a new path)`);
    return true;
  });
  assert.throws(() => checkOutputDir('--out', path.join(file, 'run')), {
    message: `--out ${path.join(file, 'run')} cannot be made: ${file} is a file, not a directory; --out must name a directory (an existing one or a new path)`,
  });
  // ensureOutputDir makes what checkOutputDir allows, and refuses the same files.
  assert.equal(ensureOutputDir('--out', fresh), fresh);
  assert.ok(fs.statSync(fresh).isDirectory());
  assert.throws(() => ensureOutputDir('--out', file), /--out .*notes\.txt is an existing file/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'not a directory\n', 'the file is untouched');
});

test('checkOutputFile: a new or existing file passes; a directory, or a path under a file, is named', () => {
  assert.equal(checkOutputFile('--save', file), file);
  assert.equal(checkOutputFile('--save', path.join(dir, 'new', 'r.json')), path.join(dir, 'new', 'r.json'));
  assert.throws(() => checkOutputFile('--save', dir), { message: `--save ${dir} is a directory: --save must name a file` });
  assert.throws(() => checkOutputFile('--save', path.join(file, 'r.json')), {
    message: `--save ${path.join(file, 'r.json')} cannot be written: ${file} is a file, not a directory`,
  });
});

test('every command that writes to --out or --save refuses a bad path at once, naming the option and the path', () => {
  const prompts = path.join(dir, 'prompts.txt');
  fs.writeFileSync(prompts, 'a red circle\n');
  const underFile = path.join(file, 'sub');
  const listing = fs.readdirSync(dir).sort();
  const cases: Array<[string[], string]> = [
    [['train', '--preset', 'tiny', '--out', file], `--out ${file} is an existing file, not a directory`],
    [['train', '--preset', 'tiny', '--out', underFile], `--out ${underFile} cannot be made: ${file} is a file`],
    [['sample', '--run', dir, '--prompts', prompts, '--out', file], `--out ${file} is an existing file, not a directory`],
    [['data', 'export', 'shapes', '--count', '2', '--out', file], `--out ${file} is an existing file, not a directory`],
    [['data', 'export', 'shapes', '--count', '2', '--out', underFile], `--out ${underFile} cannot be made: ${file} is a file`],
    [['data', 'train-encoder', 'lm', '--out', file], `--out ${file} is an existing file, not a directory`],
    [['eval', 'train-judges', '--only', 'shapes', '--out', file], `--out ${file} is an existing file, not a directory`],
    [['bench', 'ref-dit', '--save', dir], `--save ${dir} is a directory: --save must name a file`],
    [['eval', 'bench', '--save', path.join(file, 'bench.json')], `--save ${path.join(file, 'bench.json')} cannot be written: ${file} is a file`],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    assert.ok(r.stderr.includes(message), `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /EEXIST|ENOTDIR|\n\s+at /, 'no bare errno error, no stack trace');
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), listing, 'nothing was written');
  assert.equal(fs.readFileSync(file, 'utf8'), 'not a directory\n');
});
