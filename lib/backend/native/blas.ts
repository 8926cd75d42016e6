// OpenBLAS from Node through the `nblas` addon (links the system's -lblas, OpenBLAS on Debian).
// OpenBLAS reads OPENBLAS_NUM_THREADS once, when the library is loaded, so it is set before require.
// So is OPENBLAS_THREAD_TIMEOUT: by default (2^28 cycles) an idle worker spins in sched_yield for about 0.1 s
// after each product, taking the core the JS thread and the fused kernels' pool need between products;
// 2^4 cycles puts it to sleep at once (ref-dit: about 458,000 sched_yield calls a run -> 51,000, and the
// step 10% faster: results/bench/README.md).
import * as fs from 'fs';
import * as os from 'os';

export const NO_TRANS = 111;
export const TRANS = 112;

export interface Blas {
  /** C(m,n) = alpha * op(A)(m,k) op(B)(k,n) + beta * C, row-major, with leading dimensions. */
  sgemm(
    transA: number, transB: number, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number,
  ): void;
}

export interface BlasInfo {
  blas: Blas;
  threads: number;
  /** The shared library actually mapped into this process (e.g. /usr/lib/.../libopenblas.so.0). */
  library: string | null;
}

let loaded: BlasInfo | null = null;

export function loadBlas(): BlasInfo {
  if (loaded) return loaded;
  if (!process.env.OPENBLAS_NUM_THREADS) process.env.OPENBLAS_NUM_THREADS = String(os.cpus().length);
  if (!process.env.OPENBLAS_THREAD_TIMEOUT) process.env.OPENBLAS_THREAD_TIMEOUT = '4';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const blas = require('nblas') as Blas;
  let library: string | null = null;
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    const match = /\S*lib(open)?blas[^\s/]*\.so[^\s]*/.exec(maps.split('\n').filter((l) => /openblas/.test(l))[0] ?? '')
      ?? /\S*libblas[^\s/]*\.so[^\s]*/.exec(maps);
    library = match ? match[0] : null;
  } catch {
    library = null; // not Linux: no /proc
  }
  loaded = { blas, threads: Number(process.env.OPENBLAS_NUM_THREADS), library };
  return loaded;
}
