// Chooses and initialises the TensorFlow.js backend for this process.
// Order: tfjs-node-gpu (if installed and working) > tfjs-node > native (wasm + OpenBLAS) > wasm > cpu.
// CROSSFLOW_BACKEND overrides the order; an unknown value is an error naming the allowed ones.
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';

export const BACKEND_CHOICES = ['tfjs-node-gpu', 'tfjs-node', 'native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendReport {
  backend: BackendChoice;
  /** The name tfjs itself uses for the active backend ('tensorflow', 'native', 'wasm', 'cpu'). */
  tfjsBackend: string;
  requested: string | null;
  versions: Record<string, string>;
  blasThreads: number | null;
  blasLibrary: string | null;
  /** Why each backend earlier in the order was not taken. */
  skipped: Record<string, string>;
}

let active: BackendReport | null = null;
let pending: Promise<BackendReport> | null = null;

function parseChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new CrossflowError(
    `CROSSFLOW_BACKEND='${value}' is not a backend; allowed values: ${BACKEND_CHOICES.join(', ')}`,
  );
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

async function tryNodeBinding(pkg: string): Promise<void> {
  if (packageVersion(pkg) == null) throw new Error('not installed');
  // tfjs-node and tfjs-node-gpu register the 'tensorflow' backend on require.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(pkg);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not start`);
  if (pkg.endsWith('-gpu')) {
    // tfjs-node-gpu silently runs on the CPU when CUDA does not match; treat that as absent.
    const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
    if (backend.isUsingGpuDevice === false) throw new Error('no usable CUDA device (needs CUDA 11.2 + cuDNN 8.1)');
  }
}

async function start(choice: BackendChoice): Promise<Partial<BackendReport>> {
  switch (choice) {
    case 'tfjs-node-gpu':
      await tryNodeBinding('@tensorflow/tfjs-node-gpu');
      return {};
    case 'tfjs-node':
      await tryNodeBinding('@tensorflow/tfjs-node');
      return {};
    case 'native': {
      // require, not import(): the CLI and tslab load lib/ as CommonJS without an ESM loader
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { registerNativeBackend } = require('./native/register') as typeof import('./native/register');
      const blas = registerNativeBackend();
      if (!(await tf.setBackend('native'))) throw new Error('the native backend failed to start');
      return { blasThreads: blas.threads, blasLibrary: blas.library };
    }
    case 'wasm': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to start');
      return {};
    }
    case 'cpu':
      quietCpuBackend();
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to start');
      return {};
  }
}

/**
 * Initialises the backend once per process and reports the choice. `requested` (or the
 * CROSSFLOW_BACKEND variable) forces one backend; then a failure is an error, not a fallback.
 */
export function initBackend(requested?: string): Promise<BackendReport> {
  const forced = requested ?? process.env.CROSSFLOW_BACKEND ?? null;
  if (active && (forced == null || active.backend === forced)) return Promise.resolve(active);
  if (pending && forced == null) return pending;
  pending = (async () => {
    quietCpuBackend(); // tests and fallbacks touch the cpu backend too
    const order: BackendChoice[] = forced ? [parseChoice(forced)] : [...BACKEND_CHOICES];
    const skipped: Record<string, string> = {};
    for (const choice of order) {
      try {
        const extra = await start(choice);
        const versions: Record<string, string> = { '@tensorflow/tfjs': tf.version.tfjs, node: process.version };
        for (const pkg of ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'nblas']) {
          const v = packageVersion(pkg);
          if (v) versions[pkg] = v;
        }
        active = {
          backend: choice,
          tfjsBackend: tf.getBackend(),
          requested: forced,
          versions,
          blasThreads: extra.blasThreads ?? null,
          blasLibrary: extra.blasLibrary ?? null,
          skipped,
        };
        return active;
      } catch (err) {
        const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
        if (forced) throw new CrossflowError(`backend '${choice}' (from ${requested ? 'the caller' : 'CROSSFLOW_BACKEND'}) could not start: ${reason}`);
        skipped[choice] = reason.includes('Cannot find module') ? 'not installed' : reason;
      }
    }
    throw new CrossflowError(`no TensorFlow.js backend could start: ${JSON.stringify(skipped)}`);
  })();
  return pending;
}

/** The report of the backend chosen by initBackend, or null before it ran. */
export function currentBackend(): BackendReport | null {
  return active;
}
