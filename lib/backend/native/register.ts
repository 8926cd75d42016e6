// The `native` backend: the wasm backend (fast elementwise kernels, SIMD) with the heavy kernels
// replaced by OpenBLAS calls, and every kernel wasm lacks supplied (BLAS, TypeScript, or cpu fallback).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { BlasInfo, loadBlas } from './blas';
import { makeConvKernels } from './conv';
import { cpuFallbackKernel, kernelsMissingFromWasm } from './fallback';
import { AddonStatus, loadFusedAddon } from './loadAddon';
import { makeFusedKernels } from './fused';
import { makeMatMulKernels } from './matmul';
import { unsortedSegmentSumKernel } from './segment';
import { identityKernel, makeSplitKernel, makeUnpackKernel, transposeKernel } from './layout';
import { makeSumKernel } from './reduce';

let registered: BlasInfo | null = null;

// MaxPoolGrad: wrong gradients for multi-channel inputs (test/backend/native-parity.test.ts).
const WRONG_ON_WASM = [tf.MaxPoolGrad];

// Kernels on complex or string tensors cannot go through the numeric copy of the cpu fallback.
const NO_FALLBACK = new Set(['Complex', 'ComplexAbs', 'FFT', 'IFFT', 'Imag', 'Real', 'StaticRegexReplace', 'Draw']);

/** Kernels of the native backend that are not plain wasm kernels, and where each comes from. */
export const nativeKernelSources: Record<string, 'blas' | 'typescript' | 'cpu-fallback' | 'addon'> = {};

/** The fused-kernel addon: loaded, or why not. */
export let fusedAddon: AddonStatus = { addon: null, reason: 'the native backend is not registered' };

function originalWasmKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  return config ? config.kernelFunc : cpuFallbackKernel(name);
}

/**
 * Registers `config` for the native backend in place of the copied wasm kernel, keeping that kernel's
 * setupFunc: it binds the wasm function the original kernel calls, and our kernels fall back to it.
 */
function install(config: tf.KernelConfig): void {
  const previous = tf.getKernel(config.kernelName, 'native');
  if (previous) tf.unregisterKernel(config.kernelName, 'native');
  tf.registerKernel({ ...config, setupFunc: previous?.setupFunc, disposeFunc: previous?.disposeFunc });
}

export function registerNativeBackend(): BlasInfo {
  if (registered) return registered;
  const blasInfo = loadBlas();
  tf.registerBackend('native', async () => {
    const wasmFactory = tf.findBackendFactory('wasm');
    const before = {
      uncaughtException: process.listeners('uncaughtException'),
      unhandledRejection: process.listeners('unhandledRejection'),
    };
    const backend = (await wasmFactory()) as tf.KernelBackend;
    // The emscripten module installs handlers that rethrow every uncaught error from inside its own
    // minified source, so Node prints that whole line (kilobytes) instead of the error. Remove them:
    // Node's defaults already end the process on either event.
    for (const listener of process.listeners('uncaughtException')) {
      if (!before.uncaughtException.includes(listener)) process.removeListener('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!before.unhandledRejection.includes(listener)) process.removeListener('unhandledRejection', listener);
    }
    return backend;
  }, 1);
  tf.copyRegisteredKernels('wasm', 'native');

  const blasKernels = [
    ...makeMatMulKernels(blasInfo.blas, {
      batchMatMul: originalWasmKernel(tf.BatchMatMul),
      fusedMatMul: originalWasmKernel(tf._FusedMatMul),
    }),
    ...makeConvKernels(blasInfo.blas, originalWasmKernel),
    makeSumKernel(blasInfo.blas, originalWasmKernel(tf.Sum)),
  ];
  for (const k of blasKernels) {
    install(k);
    nativeKernelSources[k.kernelName] = 'blas';
  }
  fusedAddon = loadFusedAddon(blasInfo.threads);
  if (fusedAddon.addon) {
    for (const k of makeFusedKernels(fusedAddon.addon)) {
      tf.registerKernel(k);
      nativeKernelSources[k.kernelName] = 'addon';
    }
  }
  for (const k of [unsortedSegmentSumKernel, transposeKernel, identityKernel, makeUnpackKernel(originalWasmKernel(tf.Unpack)), makeSplitKernel(originalWasmKernel(tf.SplitV))]) {
    install(k);
    nativeKernelSources[k.kernelName] = 'typescript';
  }
  // wasm kernels that compute wrong values in tfjs 4.22 (found by the parity tests) use the cpu kernel.
  for (const name of WRONG_ON_WASM) {
    install({ kernelName: name, backendName: 'native', kernelFunc: cpuFallbackKernel(name) });
    nativeKernelSources[name] = 'cpu-fallback';
  }
  for (const name of kernelsMissingFromWasm()) {
    if (nativeKernelSources[name] || NO_FALLBACK.has(name)) continue;
    install({ kernelName: name, backendName: 'native', kernelFunc: cpuFallbackKernel(name) });
    nativeKernelSources[name] = 'cpu-fallback';
  }
  registered = blasInfo;
  return blasInfo;
}
