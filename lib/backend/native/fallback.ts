// Kernels the wasm backend lacks run on the `cpu` backend's implementation: inputs are copied off
// the wasm heap, the cpu kernel runs, and its output is copied back. Slow but exact; the hot ones
// (matmul, convolutions, segment sums) have BLAS/TypeScript kernels of their own instead.
import * as tf from '@tensorflow/tfjs';
import { NativeBackend } from './heap';

type DataBackend = tf.KernelBackend & {
  write(values: tf.backend_util.BackendValues | null, shape: number[], dtype: tf.DataType): tf.DataId;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
};

export function cpuFallbackKernel(kernelName: string): tf.KernelFunc {
  const cpuConfig = tf.getKernel(kernelName, 'cpu');
  if (!cpuConfig) {
    return () => {
      throw new Error(`Kernel '${kernelName}' not registered for backend 'native' (nor for 'cpu')`);
    };
  }
  return (args) => {
    const backend = args.backend as NativeBackend;
    const cpu = tf.engine().findBackend('cpu') as DataBackend;
    (cpu as unknown as { firstUse: boolean }).firstUse = false; // no "install tfjs-node" banner
    const moved: tf.DataId[] = [];
    const toCpu = (t: tf.TensorInfo): tf.TensorInfo => {
      const values = backend.readSync(t.dataId) as tf.backend_util.BackendValues;
      const dataId = cpu.write(values, t.shape, t.dtype);
      moved.push(dataId);
      return { dataId, shape: t.shape, dtype: t.dtype };
    };
    // Variadic kernels (Einsum, Concat, AddN) take an array of inputs, the others a named map.
    let cpuInputs: tf.NamedTensorInfoMap;
    if (Array.isArray(args.inputs)) {
      cpuInputs = (args.inputs as tf.TensorInfo[]).map(toCpu) as unknown as tf.NamedTensorInfoMap;
    } else {
      cpuInputs = {};
      for (const [name, t] of Object.entries(args.inputs)) if (t != null) cpuInputs[name] = toCpu(t);
    }
    const result = cpuConfig.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs: args.attrs });
    const outputs = Array.isArray(result) ? result : [result];
    const copied = outputs.map((o) => {
      const values = cpu.readSync(o.dataId);
      cpu.disposeData(o.dataId, true);
      return backend.makeOutput(o.shape, o.dtype, undefined, values as Float32Array);
    });
    for (const id of moved) cpu.disposeData(id, true);
    return Array.isArray(result) ? copied : copied[0];
  };
}

/** Names of kernels the cpu backend has and the wasm backend does not. */
export function kernelsMissingFromWasm(): string[] {
  const wasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  return tf.getKernelsForBackend('cpu').map((k) => k.kernelName).filter((n) => !wasm.has(n)).sort();
}
