// 2-D convolution and both its gradients as im2col + OpenBLAS sgemm (NHWC, as tfjs-layers uses).
// Images are processed in chunks whose column matrix fits in 64 MB, one large sgemm per chunk.
import * as tf from '@tensorflow/tfjs';
import { Blas, NO_TRANS, TRANS } from './blas';
import { NativeBackend, f32 } from './heap';

type ConvInfo = tf.backend_util.Conv2DInfo;

function isPointwise(c: ConvInfo): boolean {
  return c.filterHeight === 1 && c.filterWidth === 1 && c.strideHeight === 1 && c.strideWidth === 1
    && c.padInfo.top === 0 && c.padInfo.left === 0;
}

/**
 * Walks the patches of image n: row (oy*OW + ox) of the column matrix (outH*outW, fh*fw*inC) holds
 * the input pixels under the filter at output (oy, ox). `adjoint` false gathers image -> cols
 * (im2col, zeros for padding); true scatter-adds cols -> image (col2im, its adjoint, for gradients).
 */
function patches(image: Float32Array, n: number, c: ConvInfo, cols: Float32Array, adjoint: boolean): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = c;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = c;
  const top = c.padInfo.top;
  const left = c.padInfo.left;
  const rowLen = FH * FW * C;
  const base = n * H * W * C;
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      let o = (oy * OW + ox) * rowLen;
      for (let ky = 0; ky < FH; ky++) {
        const iy = oy * SH - top + ky * DH;
        for (let kx = 0; kx < FW; kx++) {
          const ix = ox * SW - left + kx * DW;
          const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
          const px = base + (iy * W + ix) * C;
          if (adjoint) {
            if (inside) for (let ch = 0; ch < C; ch++) image[px + ch] += cols[o + ch];
          } else if (inside) {
            for (let ch = 0; ch < C; ch++) cols[o + ch] = image[px + ch];
          } else {
            cols.fill(0, o, o + C);
          }
          o += C;
        }
      }
    }
  }
}

/** Column buffers are capped at this many floats (64 MB); images are processed in chunks that fit. */
const COLS_CAP = 16 * 1024 * 1024;

/** Splits the batch into chunks of whole images whose column matrix fits COLS_CAP. */
function chunks(c: ConvInfo, rowsPerImage: number, rowLen: number): Array<[number, number]> {
  const per = Math.max(1, Math.min(c.batchSize, Math.floor(COLS_CAP / (rowsPerImage * rowLen))));
  const out: Array<[number, number]> = [];
  for (let start = 0; start < c.batchSize; start += per) out.push([start, Math.min(c.batchSize, start + per)]);
  return out;
}

/** y (N, OH, OW, outC) = conv(x (N, H, W, inC), w (FH, FW, inC, outC)). */
export function conv2d(blas: Blas, backend: NativeBackend, x: tf.TensorInfo, w: tf.TensorInfo, c: ConvInfo): tf.TensorInfo {
  const out = backend.makeOutput(c.outShape, 'float32');
  const X = f32(backend, x);
  const Wt = f32(backend, w);
  const Y = f32(backend, out);
  const P = c.outHeight * c.outWidth;
  const Kc = c.filterHeight * c.filterWidth * c.inChannels;
  const O = c.outChannels;
  if (isPointwise(c)) {
    // (N*H*W, inC) x (inC, outC) -> (N*H*W, outC)
    blas.sgemm(NO_TRANS, NO_TRANS, c.batchSize * P, O, Kc, 1, X, Kc, Wt, O, 0, Y, O);
    return out;
  }
  const parts = chunks(c, P, Kc);
  const cols = new Float32Array((parts[0][1] - parts[0][0]) * P * Kc);
  for (const [n0, n1] of parts) {
    for (let n = n0; n < n1; n++) patches(X, n, c, cols.subarray((n - n0) * P * Kc), false);
    // (images*P, Kc) x (Kc, outC) -> (images*P, outC)
    blas.sgemm(NO_TRANS, NO_TRANS, (n1 - n0) * P, O, Kc, 1, cols, Kc, Wt, O, 0, Y.subarray(n0 * P * O), O);
  }
  return out;
}

/** dw (FH, FW, inC, outC) = cols^T dy, summed over every image. */
export function conv2dBackpropFilter(blas: Blas, backend: NativeBackend, x: tf.TensorInfo, dy: tf.TensorInfo, c: ConvInfo): tf.TensorInfo {
  const out = backend.makeOutput(c.filterShape, 'float32');
  const X = f32(backend, x);
  const DY = f32(backend, dy);
  const DW = f32(backend, out);
  const P = c.outHeight * c.outWidth;
  const Kc = c.filterHeight * c.filterWidth * c.inChannels;
  const O = c.outChannels;
  if (isPointwise(c)) {
    // (inC, N*P) x (N*P, outC) -> (inC, outC)
    blas.sgemm(TRANS, NO_TRANS, Kc, O, c.batchSize * P, 1, X, Kc, DY, O, 0, DW, O);
    return out;
  }
  const parts = chunks(c, P, Kc);
  const cols = new Float32Array((parts[0][1] - parts[0][0]) * P * Kc);
  parts.forEach(([n0, n1], i) => {
    for (let n = n0; n < n1; n++) patches(X, n, c, cols.subarray((n - n0) * P * Kc), false);
    // (Kc, images*P) x (images*P, outC) -> (Kc, outC), accumulated over chunks
    blas.sgemm(TRANS, NO_TRANS, Kc, O, (n1 - n0) * P, 1, cols, Kc, DY.subarray(n0 * P * O), O, i === 0 ? 0 : 1, DW, O);
  });
  return out;
}

/** dx (N, H, W, inC) = col2im(dy w^T). */
export function conv2dBackpropInput(blas: Blas, backend: NativeBackend, dy: tf.TensorInfo, w: tf.TensorInfo, c: ConvInfo): tf.TensorInfo {
  const out = backend.makeOutput(c.inShape, 'float32');
  const DY = f32(backend, dy);
  const Wt = f32(backend, w);
  const DX = f32(backend, out);
  const P = c.outHeight * c.outWidth;
  const Kc = c.filterHeight * c.filterWidth * c.inChannels;
  const O = c.outChannels;
  if (isPointwise(c)) {
    // (N*P, outC) x (outC, inC) -> (N*P, inC)
    blas.sgemm(NO_TRANS, TRANS, c.batchSize * P, Kc, O, 1, DY, O, Wt, O, 0, DX, Kc);
    return out;
  }
  DX.fill(0);
  const parts = chunks(c, P, Kc);
  const dcols = new Float32Array((parts[0][1] - parts[0][0]) * P * Kc);
  for (const [n0, n1] of parts) {
    // (images*P, outC) x (outC, Kc) -> (images*P, Kc)
    blas.sgemm(NO_TRANS, TRANS, (n1 - n0) * P, Kc, O, 1, DY.subarray(n0 * P * O), O, Wt, O, 0, dcols, Kc);
    for (let n = n0; n < n1; n++) patches(DX, n, c, dcols.subarray((n - n0) * P * Kc), true);
  }
  return out;
}

function shape4(s: number[]): [number, number, number, number] {
  return [s[0], s[1], s[2], s[3]];
}

export function makeConvKernels(blas: Blas, fallback: (kernelName: string) => tf.KernelFunc): tf.KernelConfig[] {
  const conv2DKernel: tf.KernelFunc = (args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
    if (dataFormat === 'NCHW' || x.dtype !== 'float32') return fallback(tf.Conv2D)(args);
    const info = tf.backend_util.computeConv2DInfo(shape4(x.shape), shape4(filter.shape), strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
    return conv2d(blas, args.backend as NativeBackend, x, filter, info);
  };
  const backpropFilterKernel: tf.KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat === 'NCHW') return fallback(tf.Conv2DBackpropFilter)(args);
    const info = tf.backend_util.computeConv2DInfo(shape4(x.shape), filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    return conv2dBackpropFilter(blas, args.backend as NativeBackend, x, dy, info);
  };
  const backpropInputKernel: tf.KernelFunc = (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dataFormat === 'NCHW') return fallback(tf.Conv2DBackpropInput)(args);
    const info = tf.backend_util.computeConv2DInfo(inputShape, shape4(filter.shape), strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    return conv2dBackpropInput(blas, args.backend as NativeBackend, dy, filter, info);
  };
  return [
    { kernelName: tf.Conv2D, backendName: 'native', kernelFunc: conv2DKernel },
    { kernelName: tf.Conv2DBackpropFilter, backendName: 'native', kernelFunc: backpropFilterKernel },
    { kernelName: tf.Conv2DBackpropInput, backendName: 'native', kernelFunc: backpropInputKernel },
  ];
}
