// Executes notebooks on the tslab kernel through `jupyter nbconvert --execute`, writes the
// executed .ipynb and an .html export to results/notebooks/, and decides pass/fail.
//
// A notebook's knobs live in its one code cell tagged `parameters` (papermill style): plain `const`
// declarations with defaults (`const profile: string = 'small';`). Before executing, the runner rewrites
// the values it was given (profile, --set, rerun in smoke) into that cell of the copy it executes; the
// committed notebook is never changed.
//
// A notebook fails on: an error output; a cell tslab reports as failed (it threw or did not
// compile: tslab prints that to stderr only); an unawaited promise rejection or a throw in a
// timer, which tslab prints to stderr as "UnhandledPromiseRejection: ..." / "UncaughtException: ..."
// while the cell stays "ok"; a cell timeout; a kernel that died or never started.
// kernelHook.js (loaded into the kernel) makes the stderr-only cases visible and attributable;
// see its header for what tslab does without it.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CrossflowError } from '../errors';
import { repoPath } from '../paths';
import { PROGRESS_FILE_ENV } from '../train/progress';
import { CONFIG_SETS_ENV, PROFILE_ENV, Profile } from './profile';
import { ProgressTail } from './progressTail';

// The markers the kernel hook writes (outside a tslab kernel, requiring it only defines them).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hook = require('./kernelHook.js') as { FAIL_MARK: string; SKIP_MARK: string; THREW: string };
export const { FAIL_MARK, SKIP_MARK } = hook;
/** What tslab's own process handlers print for rejections and throws outside the cell's flow. */
const TSLAB_ASYNC_ERROR = /^(UnhandledPromiseRejection|UncaughtException): (.*)$/m;

export const NOTEBOOKS_DIR = repoPath('notebooks');
export const NOTEBOOK_RESULTS_DIR = repoPath('results', 'notebooks');
const KERNEL_HOOK = path.join(__dirname, 'kernelHook.js');

export interface RunOptions {
  profile: Profile;
  /** Notebook names, with or without .ipynb; default: every notebook in notebooksDir. */
  names?: string[];
  notebooksDir?: string;
  outDir?: string;
  /** Per-cell limit in seconds; default by profile (smoke 600, small 7200, paper 172800). */
  cellTimeoutS?: number;
  /** Config overrides ("key=value") for notebooks that train: the value of a notebook's `sets` parameter. */
  sets?: string[];
  /** Python with Jupyter; default CROSSFLOW_PYTHON, else /usr/bin/python3. */
  python?: string;
  /**
   * Progress lines (e.g. to stderr). With it, a notebook that trains (notebookProgress) also reports its steps,
   * loss and ETA here while it runs, at most every `progressEveryS`.
   */
  log?: (message: string) => void;
  /** Seconds between two training-progress lines in `log` (default 10). */
  progressEveryS?: number;
}

export interface FailingCell {
  /** Position in the notebook's cell list, 0-based, markdown cells included. */
  index: number;
  /** First line of the cell's source. */
  source: string;
  message: string;
}

export interface NotebookResult {
  name: string;
  ok: boolean;
  seconds: number;
  failing_cell: FailingCell | null;
  /** Set when the run failed outside any cell (kernel did not start, nbconvert failed). */
  error: string | null;
  ipynb: string | null;
  html: string | null;
}

export interface NbCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  outputs?: NbOutput[];
}
export interface NbOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  traceback?: string[];
}
export interface Notebook {
  cells: NbCell[];
}

/** The tag of a notebook's parameters cell, and the one the runner adds to it once it has filled it. */
export const PARAMETERS_TAG = 'parameters';
export const INJECTED_TAG = 'injected-parameters';

/** Parameter values are JSON (strings, numbers, booleans, arrays, null), written into the cell as literals. */
export type ParameterValue = string | number | boolean | null | ParameterValue[];

/**
 * What `crossflow notebooks` gives a notebook's parameters: its profile; in smoke, `rerun = true` (a notebook
 * that can either read committed results or recompute them recomputes, so CI exercises that code); and the
 * --set overrides when given. A notebook receives those of them its parameters cell declares.
 */
export function runnerParameters(opts: Pick<RunOptions, 'profile' | 'sets'>): Record<string, ParameterValue> {
  return { profile: opts.profile, ...(opts.profile === 'smoke' ? { rerun: true } : {}), ...(opts.sets ? { sets: opts.sets } : {}) };
}

/** The index of the notebook's parameters cell, or -1; more than one is an error. */
export function parametersCellIndex(nb: Notebook, name = 'notebook'): number {
  const found = nb.cells.flatMap((c, i) => (c.cell_type === 'code' && (c.metadata?.tags ?? []).includes(PARAMETERS_TAG) ? [i] : []));
  if (found.length > 1) throw new CrossflowError(`${name}: cells ${found.join(' and ')} are both tagged "${PARAMETERS_TAG}"; a notebook has one parameters cell`);
  return found.length ? found[0] : -1;
}

/** The names a parameters cell declares (`const NAME = ...` / `const NAME: type = ...` at the start of a line). */
export function declaredParameters(source: string): string[] {
  return [...source.matchAll(/^[ \t]*(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
}

/**
 * Where the initializer of `name`'s declaration starts and ends in `source` (end: its `;`, or the end of the
 * statement's last line), or null when the cell does not declare it. Strings, template literals and
 * brackets are skipped, so an initializer may span lines (a multi-line array).
 */
function initializerSpan(source: string, name: string): { start: number; end: number } | null {
  const decl = new RegExp(`^[ \\t]*(?:const|let|var)[ \\t]+${name.replace(/\$/g, '\\$')}(?![\\w$])[ \\t]*(?::[^=\\n]*)?=`, 'm').exec(source);
  if (!decl) return null;
  const start = decl.index + decl[0].length;
  let depth = 0;
  let i = start;
  for (; i < source.length; i++) {
    const ch = source[i];
    if (ch === '"' || ch === "'" || ch === '`') {
      for (i++; i < source.length && source[i] !== ch; i++) if (source[i] === '\\') i++;
    } else if (ch === '/' && source[i + 1] === '/') {
      const eol = source.indexOf('\n', i);
      if (depth === 0) return { start, end: start + source.slice(start, i).trimEnd().length };
      i = eol < 0 ? source.length : eol;
    } else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (depth === 0 && (ch === ';' || ch === '\n') && source.slice(start, i).trim() !== '') return { start, end: i };
  }
  return { start, end: i };
}

/**
 * The notebook with its parameters cell rewritten to the given values (papermill's injected parameters, in
 * place): each value the cell declares replaces that declaration's default, written as a JSON literal, and the
 * cell gets the tag "injected-parameters" and a first line saying what was set. Values the cell does not
 * declare are not used (`sets` is only for notebooks that train), but `profile` must be declared. A notebook
 * without a parameters cell comes back unchanged. `injected` lists the names that were set.
 */
export function injectParameters(nb: Notebook, values: Record<string, ParameterValue>, name = 'notebook'): { notebook: Notebook; injected: string[] } {
  const index = parametersCellIndex(nb, name);
  if (index < 0) return { notebook: nb, injected: [] };
  const cell = nb.cells[index];
  let source = joined(cell.source);
  // tslab compiles a cell with imports as a module: its declarations would not reach later cells.
  if (/^[ \t]*import[\s{*]/m.test(source)) throw new CrossflowError(`${name}: its parameters cell (cell ${index}) has import statements; keep imports in a cell of their own before it`);
  const declared = declaredParameters(source);
  if ('profile' in values && !declared.includes('profile')) throw new CrossflowError(`${name}: its parameters cell (cell ${index}) declares no profile (declares: ${declared.join(', ') || 'nothing'})`);
  const injected = Object.keys(values).filter((k) => declared.includes(k));
  for (const key of injected) {
    const span = initializerSpan(source, key)!;
    source = `${source.slice(0, span.start)} ${JSON.stringify(values[key])}${source.slice(span.end)}`;
  }
  // Names only: a value could hold a backtick, which breaks tslab inside a comment.
  const note = `// Parameters set by crossflow notebooks: ${injected.join(', ')}\n`;
  const tags = [...(cell.metadata?.tags ?? []), ...(injected.length ? [INJECTED_TAG] : [])];
  const rewritten: NbCell = { ...cell, metadata: { ...(cell.metadata ?? {}), tags }, source: injected.length ? note + source : source };
  return { notebook: { ...nb, cells: nb.cells.map((c, i) => (i === index ? rewritten : c)) }, injected };
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join('') : (text ?? ''));
const firstLine = (cell: NbCell): string => joined(cell.source).split('\n').find((l) => l.trim() !== '') ?? '';

export function pythonCommand(): string {
  return process.env.CROSSFLOW_PYTHON || '/usr/bin/python3';
}

export function defaultCellTimeout(profile: Profile): number {
  return { smoke: 600, small: 7200, paper: 172800 }[profile];
}

/** Notebook names (without .ipynb) in the folder, sorted. */
export function listNotebooks(dir = NOTEBOOKS_DIR): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !f.startsWith('.'))
    .map((f) => f.slice(0, -'.ipynb'.length))
    .sort();
}

/** Resolves requested names (with or without .ipynb); an unknown one is an error listing the rest. */
export function resolveNotebooks(names: string[] | undefined, dir = NOTEBOOKS_DIR): string[] {
  const available = listNotebooks(dir);
  if (!names || names.length === 0) return available;
  return names.map((raw) => {
    const name = raw.endsWith('.ipynb') ? raw.slice(0, -'.ipynb'.length) : raw;
    if (!available.includes(name)) {
      throw new CrossflowError(
        `unknown notebook ${JSON.stringify(raw)} in ${dir}; available: ${available.join(', ') || '(none)'}`,
      );
    }
    return name;
  });
}

/** The summary line of a failed cell's stderr: its first error-looking line. */
function errorSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const found =
    lines.find((l) => /^(\S+ )?\d+:\d+ - /.test(l)) ?? // tslab's compile diagnostics: "[lib/x.ts ]1:19 - Type ..."
    lines.find((l) => /^[A-Za-z]*(Error|Exception)\b.*:/.test(l)) ??
    lines.find((l) => l !== '' && !l.startsWith('[crossflow]'));
  // tslab lost the error's text: it happens when the cell blocked the event loop while writing a lot of
  // output (the kernel's stream writes then throw, and console.error drops the message).
  return found ?? 'the cell failed and its error text was lost (a cell that blocks the event loop for minutes while printing loses it; await between steps)';
}

/**
 * The first failing cell of an executed notebook, or null. Skipped cells (after a failure)
 * are not failures of their own.
 */
export function findFailingCell(nb: Notebook): FailingCell | null {
  for (const [index, cell] of nb.cells.entries()) {
    if (cell.cell_type !== 'code') continue;
    const outputs = cell.outputs ?? [];
    const stderr = outputs
      .filter((o) => o.output_type === 'stream' && o.name === 'stderr')
      .map((o) => joined(o.text))
      .join('');
    const error = outputs.find((o) => o.output_type === 'error');
    const mark = stderr.split('\n').find((l) => l.startsWith(FAIL_MARK));
    const async = TSLAB_ASYNC_ERROR.exec(stderr); // seen even without the hook, when the print arrives in time
    let message: string | null = null;
    if (error) message = `${error.ename ?? 'Error'}: ${error.evalue ?? ''}`;
    else if (mark) message = mark.includes(hook.THREW) ? errorSummary(stderr) : mark.slice(FAIL_MARK.length).trim();
    else if (async) message = `${async[1]}: ${async[2]}`;
    if (message !== null) return { index, source: firstLine(cell), message };
  }
  return null;
}

/**
 * Adds a visible error output to the failing cell (tslab reports these on stderr only), so the
 * HTML export shows the failure in red where it happened.
 */
function markFailure(nb: Notebook, failure: FailingCell): void {
  const cell = nb.cells[failure.index];
  cell.outputs = [
    ...(cell.outputs ?? []),
    { output_type: 'error', ename: 'CellFailed', evalue: failure.message, traceback: [`CellFailed: ${failure.message}`] },
  ];
}

interface ProcessResult {
  code: number | null;
  stderr: string;
}

function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err) =>
      reject(new CrossflowError(`could not start ${cmd}: ${err.message}; set CROSSFLOW_PYTHON to a Python with Jupyter (nbconvert)`)),
    );
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * MathJax for the HTML export, from the npm package `mathjax` (v2: nbconvert's templates configure it through
 * MathJax.Hub, the v2 API). nbconvert's default URL is a system path or a CDN; neither works offline on a fresh
 * checkout, and the formulas then stay raw `$...$`.
 */
export const MATHJAX_FILE = repoPath('node_modules', 'mathjax', 'MathJax.js');
/** nbconvert's own configuration of MathJax 2 (TeX input, CommonHTML output, the Safe extension). */
const MATHJAX_CONFIG = 'TeX-AMS_CHTML-full,Safe';

/**
 * The MathJax URL as the HTML at `htmlDir` must write it: relative to that folder, so the page renders its
 * formulas when opened from the checkout (file://) or served with the repository.
 */
export function mathjaxUrl(htmlDir: string): string {
  const rel = path.relative(path.resolve(htmlDir), MATHJAX_FILE).split(path.sep).map(encodeURIComponent).join('/');
  return `${rel}?config=${MATHJAX_CONFIG}`;
}

/** nbconvert's arguments for the HTML export of an executed notebook into outDir/<name>.html. */
export function htmlExportArgs(ipynb: string, outDir: string, name: string): string[] {
  return [
    '-m', 'jupyter', 'nbconvert', '--to', 'html', ipynb, '--output-dir', outDir, '--output', `${name}.html`,
    `--HTMLExporter.mathjax_url=${mathjaxUrl(outDir)}`,
  ];
}

/** How long nbconvert waits for the kernel to start (nbclient's default is 60 s). */
const KERNEL_STARTUP_TIMEOUT_S = 300;

/** Why nbconvert itself failed, and in which cell when it says (timeouts, dead kernel). */
function nbconvertFailure(stderr: string, nb: Notebook): { failing: FailingCell | null; error: string } {
  const lines = stderr.split('\n');
  const errorLine = [...lines].reverse().find((l) => /^[\w.]+(Error|Exception|Kernel)\b.*:/.test(l.trim())) ?? lines.filter(Boolean).pop() ?? '';
  // nbclient prints the cell's source (or a preview) between dashed lines.
  const dash = lines.findIndex((l) => /^-{5,}$/.test(l.trim()));
  const preview = dash >= 0 ? (lines[dash + 1] ?? '').trim() : '';
  const index = preview ? nb.cells.findIndex((c) => c.cell_type === 'code' && firstLine(c).trim() === preview) : -1;
  const timedOut = /timed out|CellTimeoutError/.test(stderr);
  const message = timedOut ? `the cell timed out (${errorLine.trim()})` : errorLine.trim();
  return {
    failing: index >= 0 ? { index, source: firstLine(nb.cells[index]), message } : null,
    error: message || `nbconvert failed:\n${stderr.slice(-2000)}`,
  };
}

/** Executes one notebook and exports it. Never throws for a failing notebook: see `ok`. */
export async function runNotebook(name: string, opts: RunOptions): Promise<NotebookResult> {
  const dir = path.resolve(opts.notebooksDir ?? NOTEBOOKS_DIR);
  const outDir = path.resolve(opts.outDir ?? NOTEBOOK_RESULTS_DIR);
  const python = opts.python ?? pythonCommand();
  const committed = path.join(dir, `${name}.ipynb`);
  const { notebook: source, injected } = injectParameters(JSON.parse(fs.readFileSync(committed, 'utf8')) as Notebook, runnerParameters(opts), name);
  // The copy with the parameters filled in is executed beside the committed one (the kernel's working
  // directory and its ./lib imports are the notebook's folder), under a hidden name, and removed afterwards.
  const input = injected.length ? path.join(dir, `.${name}.parameters-${process.pid}-${Date.now()}.ipynb`) : committed;
  if (input !== committed) fs.writeFileSync(input, JSON.stringify(source, null, 1) + '\n');
  fs.mkdirSync(outDir, { recursive: true });
  const ipynb = path.join(outDir, `${name}.ipynb`);
  const html = path.join(outDir, `${name}.html`);
  for (const stale of [ipynb, html]) fs.rmSync(stale, { force: true });

  const binDir = repoPath('node_modules', '.bin');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The tslab kernelspec runs the bare command `tslab`.
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(KERNEL_HOOK)}`.trim(),
    // Silences debugpy's frozen-modules warnings from ipykernel-based tooling.
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  // The profile and --set reach the notebook through its parameters cell. CROSSFLOW_PROFILE is still set, to the
  // same profile, for library code that falls back to it (lib/notebooks/environment.ts reads profile() itself);
  // an inherited CROSSFLOW_SET must not reach the kernel.
  env[PROFILE_ENV] = opts.profile;
  delete env[CONFIG_SETS_ENV];
  // Training progress: the kernel appends records to a file named in the environment; a tail shows them.
  delete env[PROGRESS_FILE_ENV];
  const log = opts.log;
  const progressDir = log ? fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-progress-')) : null;
  let tail: ProgressTail | null = null;
  let poller: NodeJS.Timeout | null = null;
  if (progressDir && log) {
    const file = path.join(progressDir, `${name}.jsonl`);
    env[PROGRESS_FILE_ENV] = file;
    tail = new ProgressTail(file, name, (m) => log(`[notebooks] ${m}`), (opts.progressEveryS ?? 10) * 1000);
    const t = tail;
    poller = setInterval(() => t.poll(), 1000);
  }
  const timeout = opts.cellTimeoutS ?? defaultCellTimeout(opts.profile);
  const started = Date.now();
  const exec = await runProcess(
    python,
    [
      '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', input,
      // Cells after a failure are skipped by the kernel hook; allow-errors lets nbconvert write the result.
      '--allow-errors',
      '--ExecutePreprocessor.kernel_name=tslab',
      `--ExecutePreprocessor.timeout=${timeout}`,
      // nbclient waits 60 s for a new kernel's first reply by default; a tslab kernel on a busy or cold machine
      // (fresh clone, first start) has missed that in CI, failing a notebook before its first cell ran.
      `--ExecutePreprocessor.startup_timeout=${KERNEL_STARTUP_TIMEOUT_S}`,
      '--output-dir', outDir,
      '--output', `${name}.ipynb`,
    ],
    env,
    dir,
  ).finally(() => {
    if (poller) clearInterval(poller);
    tail?.stop();
    if (progressDir) fs.rmSync(progressDir, { recursive: true, force: true });
    if (input !== committed) fs.rmSync(input, { force: true });
  });
  const seconds = (Date.now() - started) / 1000;
  if (exec.code !== 0 || !fs.existsSync(ipynb)) {
    const { failing, error } = nbconvertFailure(exec.stderr, source);
    return { name, ok: false, seconds, failing_cell: failing, error, ipynb: null, html: null };
  }

  const executed = JSON.parse(fs.readFileSync(ipynb, 'utf8')) as Notebook;
  const failing = findFailingCell(executed);
  if (failing) {
    markFailure(executed, failing);
    fs.writeFileSync(ipynb, JSON.stringify(executed, null, 1) + '\n');
  }
  const exported = await runProcess(
    python,
    htmlExportArgs(ipynb, outDir, name),
    env,
    outDir,
  );
  const htmlOk = exported.code === 0 && fs.existsSync(html);
  return {
    name,
    ok: failing === null && htmlOk,
    seconds,
    failing_cell: failing,
    error: htmlOk ? null : `HTML export failed: ${exported.stderr.trim().split('\n').pop() ?? ''}`,
    ipynb,
    html: htmlOk ? html : null,
  };
}

/** Executes the requested notebooks one after another (validating every name first). */
export async function runNotebooks(opts: RunOptions): Promise<NotebookResult[]> {
  const names = resolveNotebooks(opts.names, opts.notebooksDir ?? NOTEBOOKS_DIR);
  const results: NotebookResult[] = [];
  for (const name of names) {
    opts.log?.(`[notebooks] ${name}: running (profile ${opts.profile})`);
    const result = await runNotebook(name, opts);
    opts.log?.(`[notebooks] ${name}: ${result.ok ? 'ok' : 'FAILED'} in ${result.seconds.toFixed(1)} s`);
    results.push(result);
  }
  return results;
}

/** One line per failure: notebook, cell index, the cell's first line, and why. */
export function describeFailure(r: NotebookResult): string {
  if (r.ok) return `${r.name}: ok`;
  if (r.failing_cell) {
    const c = r.failing_cell;
    return `${r.name}: cell ${c.index} (\`${c.source}\`) failed: ${c.message}`;
  }
  return `${r.name}: failed: ${r.error ?? 'unknown error'}`;
}
