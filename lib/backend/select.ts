// Chooses and initialises the TensorFlow.js backend for this process.
//
// With a model at hand (a `workload`: one training step of it), the choice is measured: every fast
// backend installed here (tfjs-node-gpu or tfjs-node, and native) runs a few interleaved steps of that
// model, and the fastest wins. The answer is kept per (backend, model shape, machine) in
// .cache/backend-timings.json, so the next process with that model reads it instead of measuring
// (`crossflow bench presets` fills it for every preset). Small models favour `native` (each op is a cheap
// call into wasm), larger ones the TensorFlow runtime (each op crosses into TF's eager runtime, which
// costs per op but runs big matrix products faster).
// Without a model at hand the order is native > tfjs-node-gpu > tfjs-node > wasm > cpu.
// CROSSFLOW_BACKEND (or the caller's `backend`) forces one; an unknown value is an error naming the allowed ones.
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';
import { fusedAddonFingerprint } from './native/loadAddon';
import { findTfjsNode, loadTfjsNode, TfjsNodePackage } from './tensorflow';
import { fingerprint, lookupTiming, machineLoad, readTimings, recordTimings, TimingEntry } from './timings';

export const BACKEND_CHOICES = ['tfjs-node-gpu', 'tfjs-node', 'native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The order without a model at hand: native first (fastest here for the many small ops of data and evaluation code). */
export const DEFAULT_ORDER: BackendChoice[] = ['native', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** A model whose step time decides the backend. */
export interface BackendWorkload {
  /** What is measured, stable across processes (model shape, batch): the cache key. */
  key: string;
  /** For people: e.g. "small training step (batch 32)". */
  label: string;
  /** Builds the model (and its inputs) on the active backend. */
  prepare(): WorkloadSession | Promise<WorkloadSession>;
}

export interface WorkloadSession {
  /** One step, finished when it returns (it reads a value back, so GPU work is included). */
  step(): void | Promise<void>;
  dispose(): void;
}

export interface InitOptions {
  /** Force this backend (as CROSSFLOW_BACKEND does; the caller's value wins). */
  backend?: string;
  /** The model at hand: choose by its measured step time. */
  workload?: BackendWorkload;
  /** Measure again even when .cache/backend-timings.json has the answer. */
  remeasure?: boolean;
  /** Steps per backend: warm-up and timed (interleaved) rounds. */
  warmup?: number;
  rounds?: number;
}

export interface BackendTimings {
  workload: string;
  label: string;
  /** Median ms per step on each measured backend. */
  ms: Record<string, number>;
  /** Measured in this process (true) or read from .cache/backend-timings.json. */
  measuredNow: boolean;
  measured_at: string;
}

export interface BackendReport {
  backend: BackendChoice;
  /** The name tfjs itself uses for the active backend ('tensorflow', 'native', 'wasm', 'cpu'). */
  tfjsBackend: string;
  requested: string | null;
  /** How the backend was chosen, and a sentence saying why. */
  chosenBy: 'request' | 'measurement' | 'only-candidate' | 'default-order';
  reason: string;
  timings: BackendTimings | null;
  /** The TensorFlow builds found here (cheap check, nothing loaded), e.g. {'tfjs-node': '4.22.0 (...)'}. */
  installed: Record<string, string>;
  versions: Record<string, string>;
  blasThreads: number | null;
  blasLibrary: string | null;
  /** native: whether the fused-kernel addon runs, or why not. */
  fusedKernels: string | null;
  /** Why each backend that was tried and not taken could not start (or was not installed). */
  skipped: Record<string, string>;
}

let active: BackendReport | null = null;
let pending: Promise<BackendReport> | null = null;
/** Backends started in this process, with what their start reported. */
const started = new Map<BackendChoice, { blasThreads: number | null; blasLibrary: string | null; fusedKernels: string | null }>();

function parseChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new CrossflowError(`CROSSFLOW_BACKEND='${value}' is not a backend; allowed values: ${BACKEND_CHOICES.join(', ')}`);
}

/** The installed version of a package, or null; an npm alias (danfojs' tfjs-node -> tfjs) is not the package. */
function packageVersion(name: string): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require(`${name}/package.json`) as { name: string; version: string };
    return pkg.name === name ? pkg.version : null;
  } catch {
    return null;
  }
}

/** The cpu backend prints a "use tfjs-node" banner on first use under Node; it is noise here. */
export function quietCpuBackend(): void {
  const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

const PACKAGE_OF: Partial<Record<BackendChoice, TfjsNodePackage>> = {
  'tfjs-node': '@tensorflow/tfjs-node',
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
};

/** The name tfjs registers the backend under. */
function tfjsName(choice: BackendChoice): string {
  return PACKAGE_OF[choice] ? 'tensorflow' : choice;
}

/** The TensorFlow builds installed here, described (nothing is loaded). */
export function installedTensorflow(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [choice, pkg] of Object.entries(PACKAGE_OF)) {
    const found = findTfjsNode(pkg);
    if (found) out[choice] = `${found.version} (${found.source === 'setup' ? `built by scripts/setup-tensorflow.sh on ${found.wheel}` : 'npm package'}: ${found.dir})`;
  }
  return out;
}

/** Starts a backend (once per process) and makes it active. */
async function activate(choice: BackendChoice): Promise<void> {
  if (started.has(choice)) {
    if (!(await tf.setBackend(tfjsName(choice)))) throw new Error(`the ${choice} backend failed to start`);
    return;
  }
  let extra = { blasThreads: null as number | null, blasLibrary: null as string | null, fusedKernels: null as string | null };
  switch (choice) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      const other: BackendChoice = choice === 'tfjs-node' ? 'tfjs-node-gpu' : 'tfjs-node';
      if (started.has(other)) throw new Error(`${other} is loaded in this process (both register the 'tensorflow' backend)`);
      loadTfjsNode(PACKAGE_OF[choice]!); // registers 'tensorflow' and makes it active
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${PACKAGE_OF[choice]} loaded but its backend did not start`);
      if (choice === 'tfjs-node-gpu') {
        // tfjs-node-gpu silently runs on the CPU when CUDA does not match; treat that as absent.
        const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
        if (backend.isUsingGpuDevice === false) throw new Error('TensorFlow found no usable CUDA device (the build wants CUDA 12)');
      }
      break;
    }
    case 'native': {
      // require, not import(): the CLI and tslab load lib/ as CommonJS without an ESM loader
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { registerNativeBackend } = require('./native/register') as typeof import('./native/register');
      const blas = registerNativeBackend();
      if (!(await tf.setBackend('native'))) throw new Error('the native backend failed to start');
      const { fusedAddon } = require('./native/register') as typeof import('./native/register'); // eslint-disable-line @typescript-eslint/no-require-imports
      extra = { blasThreads: blas.threads, blasLibrary: blas.library, fusedKernels: fusedAddon.addon ? 'loaded (adaLN, GELU, self-attention: lib/backend/native/addon)' : `not used: ${fusedAddon.reason}` };
      break;
    }
    case 'wasm': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to start');
      break;
    }
    case 'cpu':
      quietCpuBackend();
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to start');
      break;
  }
  started.set(choice, extra);
}

function reasonOf(err: unknown): string {
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return reason.includes('Cannot find module') ? 'not installed' : reason;
}

/** What a measurement on `choice` depends on besides the model (see timings.ts). */
export function backendFingerprint(choice: BackendChoice): string {
  if (choice === 'native') return fingerprint(choice, tf.version.tfjs, `blas-threads-${process.env.OPENBLAS_NUM_THREADS || os.cpus().length}:${fusedAddonFingerprint()}`);
  const pkg = PACKAGE_OF[choice];
  if (pkg) {
    const found = findTfjsNode(pkg);
    return fingerprint(choice, tf.version.tfjs, found ? `${found.pkg}@${found.version}:${found.wheel ?? found.source}` : 'absent');
  }
  return fingerprint(choice, tf.version.tfjs, '');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Measurement {
  /** Median ms per step. */
  ms: number;
  all: number[];
}

/**
 * Times `workload` on each backend: each builds its own copy of the model and warms up, then the
 * backends take turns, one step each, for `rounds` rounds (so a busy machine slows all of them alike).
 * Before each timed step it waits `settleMs` (untimed): OpenBLAS's worker threads spin for about 0.1 s
 * after a native step, and would otherwise take the cores from the next backend's step.
 * A backend that cannot start or run the model is left out, with its reason in `failed`.
 * Leaves the last measured backend active; disposes every tensor it made.
 */
export async function measureBackends(
  choices: BackendChoice[],
  workload: BackendWorkload,
  opts: { warmup?: number; rounds?: number; settleMs?: number } = {},
): Promise<{ results: Record<string, Measurement>; failed: Record<string, string> }> {
  const warmup = opts.warmup ?? 3;
  const rounds = opts.rounds ?? 5;
  const settleMs = opts.settleMs ?? (choices.length > 1 ? 150 : 0);
  const sessions = new Map<BackendChoice, WorkloadSession>();
  const failed: Record<string, string> = {};
  const times = new Map<BackendChoice, number[]>();
  try {
    for (const choice of choices) {
      let session: WorkloadSession | null = null;
      try {
        await activate(choice);
        session = await workload.prepare();
        for (let i = 0; i < warmup; i++) await session.step();
        sessions.set(choice, session);
        times.set(choice, []);
      } catch (err) {
        failed[choice] = reasonOf(err);
        session?.dispose();
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const [choice, session] of [...sessions]) {
        try {
          await activate(choice);
          if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
          const t0 = performance.now();
          await session.step();
          times.get(choice)!.push(performance.now() - t0);
        } catch (err) {
          failed[choice] = reasonOf(err);
          sessions.delete(choice);
          times.delete(choice);
          session.dispose();
        }
      }
    }
  } finally {
    for (const [choice, session] of sessions) {
      await activate(choice);
      session.dispose();
    }
  }
  const results: Record<string, Measurement> = {};
  for (const [choice, all] of times) results[choice] = { ms: Math.round(median(all) * 100) / 100, all: all.map((t) => Math.round(t * 10) / 10) };
  return { results, failed };
}

/** Saves measurements of `workload` to .cache/backend-timings.json. */
export function saveMeasurements(workload: BackendWorkload, results: Record<string, Measurement>, source: TimingEntry['source']): void {
  const at = new Date().toISOString();
  recordTimings(
    Object.entries(results).map(([backend, m]) => ({
      backend, workload: workload.key, label: workload.label, fingerprint: backendFingerprint(backend as BackendChoice),
      ms: m.ms, steps: m.all.length, source, measured_at: at,
    })),
  );
}

/** The backends whose step times are compared for a model: the TensorFlow build installed here, and native. */
function measuredCandidates(installed: Record<string, string>): BackendChoice[] {
  // tfjs-node and tfjs-node-gpu both register 'tensorflow': one of them per process, the GPU one first.
  const tensorflow: BackendChoice[] = installed['tfjs-node-gpu'] ? ['tfjs-node-gpu'] : installed['tfjs-node'] ? ['tfjs-node'] : [];
  return [...tensorflow, 'native'];
}

function formatMs(ms: Record<string, number>): string {
  return Object.entries(ms).sort((a, b) => a[1] - b[1]).map(([b, v]) => `${b} ${v.toFixed(1)} ms`).join(', ');
}

async function choose(forced: string | null, opts: InitOptions): Promise<BackendReport> {
  quietCpuBackend(); // tests and fallbacks touch the cpu backend too
  const installed = installedTensorflow();
  const skipped: Record<string, string> = {};
  let chosenBy: BackendReport['chosenBy'] = 'default-order';
  let reason = '';
  let timings: BackendTimings | null = null;
  let order: BackendChoice[];

  if (forced) {
    order = [parseChoice(forced)];
    chosenBy = 'request';
    reason = `requested by ${opts.backend ? 'the caller' : 'CROSSFLOW_BACKEND'}`;
  } else {
    const candidates = measuredCandidates(installed);
    for (const c of ['tfjs-node-gpu', 'tfjs-node'] as const) if (!candidates.includes(c)) skipped[c] = installed[c] ? 'not measured (tfjs-node-gpu is installed: one TensorFlow build per process)' : 'not installed';
    const workload = opts.workload;
    if (workload && candidates.length > 1) {
      const entries = readTimings();
      const cached = candidates.map((c) => lookupTiming(entries, c, workload.key, backendFingerprint(c)));
      if (!opts.remeasure && cached.every((e) => e != null)) {
        const ms = Object.fromEntries(cached.map((e) => [e!.backend, e!.ms]));
        timings = { workload: workload.key, label: workload.label, ms, measuredNow: false, measured_at: cached.map((e) => e!.measured_at).sort()[0] };
      } else {
        const { results, failed } = await measureBackends(candidates, workload, { warmup: opts.warmup, rounds: opts.rounds });
        Object.assign(skipped, failed);
        saveMeasurements(workload, results, 'probe');
        const ms = Object.fromEntries(Object.entries(results).map(([b, m]) => [b, m.ms]));
        timings = { workload: workload.key, label: workload.label, ms, measuredNow: true, measured_at: new Date().toISOString() };
      }
      const ranked = Object.entries(timings.ms).sort((a, b) => a[1] - b[1]).map(([b]) => b as BackendChoice);
      order = [...ranked, ...DEFAULT_ORDER.filter((c) => !ranked.includes(c) && !(c in skipped))];
      chosenBy = ranked.length > 1 ? 'measurement' : 'only-candidate';
      reason = ranked.length > 1
        ? `fastest measured for the ${workload.label}: ${formatMs(timings.ms)} (${timings.measuredNow ? 'measured now' : `measured ${timings.measured_at.slice(0, 16).replace('T', ' ')}`} on a ${machineLoad().busy ? 'busy' : 'quiet'} machine; .cache/backend-timings.json)`
        : `the only backend that ran the ${workload.label} (${Object.entries(skipped).filter(([b]) => candidates.includes(b as BackendChoice)).map(([b, why]) => `${b}: ${why}`).join('; ')})`;
    } else {
      order = DEFAULT_ORDER.filter((c) => !(c in skipped));
      if (candidates.length === 1) {
        chosenBy = 'only-candidate';
        reason = 'no TensorFlow build installed (bash scripts/setup-tensorflow.sh makes one), so nothing to measure against native';
      } else {
        reason = 'no model at hand to measure (a command that trains measures its model; so does crossflow backend --preset NAME): the default order native > tfjs-node-gpu > tfjs-node > wasm > cpu';
      }
    }
  }

  for (const choice of order) {
    try {
      await activate(choice);
      const versions: Record<string, string> = { '@tensorflow/tfjs': tf.version.tfjs, node: process.version };
      for (const pkg of ['@tensorflow/tfjs-backend-wasm', 'nblas']) {
        const v = packageVersion(pkg);
        if (v) versions[pkg] = v;
      }
      for (const [c, pkg] of Object.entries(PACKAGE_OF)) {
        const found = findTfjsNode(pkg);
        if (found) versions[pkg] = found.version;
        if (found?.wheel && c === choice) versions.tensorflow = found.wheel;
      }
      const extra = started.get(choice)!;
      if (chosenBy === 'default-order' && choice !== order[0]) reason += `; ${order[0]} did not start`;
      return {
        backend: choice,
        tfjsBackend: tf.getBackend(),
        requested: forced,
        chosenBy,
        reason,
        timings,
        installed,
        versions,
        blasThreads: extra.blasThreads,
        blasLibrary: extra.blasLibrary,
        fusedKernels: extra.fusedKernels,
        skipped,
      };
    } catch (err) {
      if (forced) throw new CrossflowError(`backend '${choice}' (from ${opts.backend ? 'the caller' : 'CROSSFLOW_BACKEND'}) could not start: ${reasonOf(err)}`);
      skipped[choice] = reasonOf(err);
    }
  }
  throw new CrossflowError(`no TensorFlow.js backend could start: ${JSON.stringify(skipped)}`);
}

/**
 * Initialises the backend once per process and reports the choice. A string (or `backend`, or the
 * CROSSFLOW_BACKEND variable) forces one backend; then a failure is an error, not a fallback. With a
 * `workload` and no backend yet, the fastest for that model is chosen (measured, or read from the cache).
 */
export function initBackend(requestedOrOptions?: string | InitOptions): Promise<BackendReport> {
  const opts: InitOptions = typeof requestedOrOptions === 'string' ? { backend: requestedOrOptions } : requestedOrOptions ?? {};
  const forced = opts.backend ?? (process.env.CROSSFLOW_BACKEND || null);
  if (active && (forced == null || active.backend === forced)) return Promise.resolve(active);
  if (pending && forced == null) return pending;
  pending = choose(forced, opts).then((report) => {
    active = report;
    return report;
  });
  return pending;
}

/** The report of the backend chosen by initBackend, or null before it ran. */
export function currentBackend(): BackendReport | null {
  return active;
}

/** Tests: the next initBackend chooses again (backends already started stay loaded and registered). */
export function forgetChoice(): void {
  active = null;
  pending = null;
}
