// Access to tensors that live on the wasm backend's heap, for kernels written in TypeScript.
// The heap's ArrayBuffer is replaced whenever wasm memory grows, so views are made per call.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type NativeBackend = BackendWasm;

export function f32(backend: NativeBackend, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

export function i32(backend: NativeBackend, t: tf.TensorInfo): Int32Array {
  return backend.typedArrayFromHeap(t) as Int32Array;
}

/** Runs another kernel registered on this backend (e.g. Add after a matmul) and returns its output. */
export function runKernel(
  backend: NativeBackend,
  kernelName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = tf.getKernel(kernelName, 'native');
  if (!config) throw new Error(`Kernel '${kernelName}' not registered for backend 'native'`);
  return config.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

export function dispose(backend: NativeBackend, t: tf.TensorInfo): void {
  backend.disposeData(t.dataId);
}
