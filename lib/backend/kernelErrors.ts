// Turns tfjs's "Kernel 'X' not registered for backend 'Y'" (thrown deep inside the engine) into a
// message that names the kernel, the backend, and the backends that do have it.
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';

const MISSING_KERNEL = /Kernel '(\w+)' not registered for backend '(\w+)'/;

export function explainKernelError(err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const m = MISSING_KERNEL.exec(message);
  if (!m) return err;
  const [, kernel, backend] = m;
  const having = ['native', 'cpu', 'wasm', 'tensorflow'].filter((b) => b !== backend && tf.getKernel(kernel, b) != null);
  return new CrossflowError(
    `kernel '${kernel}' is not available on the '${backend}' backend` +
      (having.length ? `; backends that have it: ${having.join(', ')} (set CROSSFLOW_BACKEND)` : '; no installed backend has it'),
  );
}

/** Runs fn and rethrows a missing-kernel error as a clear CrossflowError. */
export async function withKernelErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explainKernelError(err);
  }
}
