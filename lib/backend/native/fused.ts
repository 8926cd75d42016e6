// The fused kernels (lib/backend/fusedKernels.ts) on the native backend: each allocates its outputs on
// the wasm heap first (an allocation can grow the heap and detach earlier views), then hands views of
// inputs and outputs to the C addon.
import * as tf from '@tensorflow/tfjs';
import { FUSED } from '../fusedKernels';
import type { FusedAddon } from './loadAddon';
import { NativeBackend, f32 } from './heap';

type Inputs = Record<string, tf.TensorInfo>;

function float32(kernel: string, inputs: Inputs): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'float32') throw new Error(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  }
}

export function makeFusedKernels(addon: FusedAddon): tf.KernelConfig[] {
  const kernel = (kernelName: string, f: (inputs: Inputs, backend: NativeBackend, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[]): tf.KernelConfig => ({
    kernelName,
    backendName: 'native',
    kernelFunc: ({ inputs, backend, attrs }) => {
      float32(kernelName, inputs as Inputs);
      return f(inputs as Inputs, backend as NativeBackend, attrs ?? {});
    },
  });
  return [
    kernel(FUSED.adaLN, ({ x, shift, scale }, backend, attrs) => {
      const [B, T, D] = x.shape;
      const y = backend.makeOutput([B, T, D], 'float32');
      const xhat = backend.makeOutput([B, T, D], 'float32');
      const rstd = backend.makeOutput([B, T], 'float32');
      addon.adalnForward(f32(backend, x), f32(backend, shift), f32(backend, scale), f32(backend, y), f32(backend, xhat), f32(backend, rstd), B, T, D, attrs.eps as number);
      return [y, xhat, rstd];
    }),
    kernel(FUSED.adaLNGrad, ({ dy, xhat, rstd, scale }, backend) => {
      const [B, T, D] = dy.shape;
      const dx = backend.makeOutput([B, T, D], 'float32');
      const dshift = backend.makeOutput([B, D], 'float32');
      const dscale = backend.makeOutput([B, D], 'float32');
      addon.adalnBackward(f32(backend, dy), f32(backend, xhat), f32(backend, rstd), f32(backend, scale), f32(backend, dx), f32(backend, dshift), f32(backend, dscale), B, T, D);
      return [dx, dshift, dscale];
    }),
    kernel(FUSED.gatedResidual, ({ x, gate, h }, backend) => {
      const [B, T, D] = x.shape;
      const y = backend.makeOutput([B, T, D], 'float32');
      addon.gatedResidualForward(f32(backend, x), f32(backend, gate), f32(backend, h), f32(backend, y), B, T, D);
      return y;
    }),
    kernel(FUSED.gatedResidualGrad, ({ dy, gate, h }, backend) => {
      const [B, T, D] = dy.shape;
      const dh = backend.makeOutput([B, T, D], 'float32');
      const dgate = backend.makeOutput([B, D], 'float32');
      addon.gatedResidualBackward(f32(backend, dy), f32(backend, gate), f32(backend, h), f32(backend, dh), f32(backend, dgate), B, T, D);
      return [dh, dgate];
    }),
    kernel(FUSED.gelu, ({ x }, backend) => {
      const y = backend.makeOutput(x.shape, 'float32');
      addon.geluForward(f32(backend, x), f32(backend, y));
      return y;
    }),
    kernel(FUSED.geluGrad, ({ x, dy }, backend) => {
      const dx = backend.makeOutput(x.shape, 'float32');
      addon.geluBackward(f32(backend, x), f32(backend, dy), f32(backend, dx));
      return dx;
    }),
    kernel(FUSED.attention, ({ qkv, mask }, backend, attrs) => {
      const [B, T, D3] = qkv.shape;
      const H = attrs.heads as number;
      const dh = D3 / 3 / H;
      const out = backend.makeOutput([B, T, H * dh], 'float32');
      const probs = backend.makeOutput([B, H, T, T], 'float32');
      addon.attentionForward(f32(backend, qkv), mask ? f32(backend, mask) : null, f32(backend, out), f32(backend, probs), B, T, H, dh);
      return [out, probs];
    }),
    kernel(FUSED.attentionGrad, ({ qkv, probs, dy }, backend, attrs) => {
      const [B, T, D3] = qkv.shape;
      const H = attrs.heads as number;
      const dh = D3 / 3 / H;
      const dqkv = backend.makeOutput([B, T, D3], 'float32');
      addon.attentionBackward(f32(backend, qkv), f32(backend, probs), f32(backend, dy), f32(backend, dqkv), B, T, H, dh);
      return dqkv;
    }),
  ];
}
