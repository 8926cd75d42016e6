// The Shapes judge: a small fully-convolutional network that reads every object of a Shapes
// image back as (shape, color, size, center). Design: a dense per-cell head on an 8x8 grid
// (one cell = 4x4 pixels at 32x32), as in single-stage detectors. The cell that contains an
// object's center is "responsible" for it: it predicts objectness, the object's shape, color and
// size classes, and the center's offset inside the cell. Objects never overlap and are at least
// 7 px apart, so no cell ever holds two centers (centers within 1 px of a border are assigned to
// the cells on both sides; decoding merges proposals that point at the same center). Counts and relations follow from the decoded set.
// Features for FID: the mean over cells of the last hidden layer (64 values per image).
import * as tf from '@tensorflow/tfjs';
import { COLORS, SHAPES, SIZES, Shape, Color, Size } from '../../data/shapes/world';

export const JUDGE_SIDE = 32;
export const GRID = 8;
export const CELL = JUDGE_SIDE / GRID; // 4 px
export const FEATURE_DIM = 64;
// Head channels: [objectness | shape x4 | color x6 | size x2 | offset x2]
const SHAPE0 = 1;
const COLOR0 = SHAPE0 + SHAPES.length;
const SIZE0 = COLOR0 + COLORS.length;
const OFF0 = SIZE0 + SIZES.length;
export const HEAD_CHANNELS = OFF0 + 2;
/**
 * Objects whose center lies within ASSIGN_MARGIN px of a cell border are assigned to the cells on
 * both sides (as YOLOv5 assigns neighbouring cells): a center exactly on a border (x = 8.0 is
 * common, centers snap to quarter pixels) otherwise leaves the network unsure which of two cells
 * fires, and both stay below 0.5. Offsets therefore range over [-m, 1 + m] cells, m = margin / CELL.
 */
export const ASSIGN_MARGIN = 1;
const OFF_MARGIN = ASSIGN_MARGIN / CELL;

/** Offset in cells from the raw head value: (1 + 2m) sigmoid(v) - m. */
export function offsetFromLogit(v: number): number {
  return (1 + 2 * OFF_MARGIN) / (1 + Math.exp(-v)) - OFF_MARGIN;
}

/** Inverse of offsetFromLogit. */
export function logitFromOffset(o: number): number {
  const u = (o + OFF_MARGIN) / (1 + 2 * OFF_MARGIN);
  return Math.log(u / (1 - u));
}

export interface JudgedObject {
  shape: Shape;
  color: Color;
  size: Size;
  cx: number;
  cy: number;
  /** Objectness probability. */
  score: number;
}

export interface TargetObject {
  shape: Shape;
  color: Color;
  size: Size;
  cx: number;
  cy: number;
}

export const SHAPES_JUDGE_ARCH = 'conv3x3(32)-conv3x3s2(32)-conv3x3(64)-conv3x3s2(64)-conv3x3(64)-conv3x3(64)-conv1x1(15), relu, same padding';

/** Builds the network: (B, 32, 32, 3) in [0, 1] -> [head (B, 8, 8, 15), features (B, 8, 8, 64)]. */
export function buildShapesJudge(seed = 0): tf.LayersModel {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 100 + k });
  const input = tf.input({ shape: [JUDGE_SIDE, JUDGE_SIDE, 3] });
  const conv = (x: tf.SymbolicTensor, filters: number, strides: number, k: number) =>
    tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: init(k) }).apply(x) as tf.SymbolicTensor;
  let x = conv(input, 32, 1, 1); // (B, 32, 32, 32)
  x = conv(x, 32, 2, 2); // (B, 16, 16, 32)
  x = conv(x, 64, 1, 3); // (B, 16, 16, 64)
  x = conv(x, 64, 2, 4); // (B, 8, 8, 64)
  x = conv(x, 64, 1, 5);
  const features = conv(x, FEATURE_DIM, 1, 6); // (B, 8, 8, 64)
  const head = tf.layers
    .conv2d({ filters: HEAD_CHANNELS, kernelSize: 1, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 7 }) })
    .apply(features) as tf.SymbolicTensor; // (B, 8, 8, 15)
  return tf.model({ inputs: input, outputs: [head, features] });
}

/** Dense training targets for a batch: objectness (B,8,8), class indices (B,8,8,3), offsets (B,8,8,2). */
export function encodeTargets(batch: TargetObject[][]): { obj: tf.Tensor3D; cls: tf.Tensor4D; off: tf.Tensor4D } {
  const B = batch.length;
  const obj = new Float32Array(B * GRID * GRID);
  const cls = new Int32Array(B * GRID * GRID * 3);
  const off = new Float32Array(B * GRID * GRID * 2);
  batch.forEach((objects, b) => {
    for (const o of objects) {
      const lo = (v: number) => Math.max(0, Math.floor((v - ASSIGN_MARGIN) / CELL));
      const hi = (v: number) => Math.min(GRID - 1, Math.floor((v + ASSIGN_MARGIN) / CELL));
      for (let gy = lo(o.cy); gy <= hi(o.cy); gy++) {
        for (let gx = lo(o.cx); gx <= hi(o.cx); gx++) {
          const cell = (b * GRID + gy) * GRID + gx;
          obj[cell] = 1;
          cls[cell * 3] = SHAPES.indexOf(o.shape);
          cls[cell * 3 + 1] = COLORS.indexOf(o.color);
          cls[cell * 3 + 2] = SIZES.indexOf(o.size);
          off[cell * 2] = o.cx / CELL - gx;
          off[cell * 2 + 1] = o.cy / CELL - gy;
        }
      }
    }
  });
  return {
    obj: tf.tensor3d(obj, [B, GRID, GRID]),
    cls: tf.tensor4d(cls, [B, GRID, GRID, 3], 'int32'),
    off: tf.tensor4d(off, [B, GRID, GRID, 2]),
  };
}

/** Training loss: objectness BCE over all cells + class CEs and offset MSE at the responsible cells. */
export function judgeLoss(head: tf.Tensor4D, t: { obj: tf.Tensor3D; cls: tf.Tensor4D; off: tf.Tensor4D }): tf.Scalar {
  return tf.tidy(() => {
    const [B] = head.shape;
    const flat = head.reshape([B * GRID * GRID, HEAD_CHANNELS]); // (N, 15), N = B*64 cells
    const objT = t.obj.reshape([-1]); // (N,)
    const cls = t.cls.reshape([-1, 3]); // (N, 3)
    const objLoss = tf.losses.sigmoidCrossEntropy(objT, flat.slice([0, 0], [-1, 1]).reshape([-1]));
    const nPos = tf.maximum(objT.sum(), 1);
    const ce = (start: number, n: number, col: number) => {
      const logits = flat.slice([0, start], [-1, n]); // (N, n)
      const labels = tf.oneHot(cls.slice([0, col], [-1, 1]).reshape([-1]), n); // (N, n)
      const perCell = tf.losses.softmaxCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
      return perCell.mul(objT).sum().div(nPos);
    };
    const offPred = tf.sigmoid(flat.slice([0, OFF0], [-1, 2])).mul(1 + 2 * OFF_MARGIN).sub(OFF_MARGIN); // (N, 2) in (-m, 1 + m)
    const offLoss = offPred.sub(t.off.reshape([-1, 2])).square().sum(1).mul(objT).sum().div(nPos);
    return objLoss
      .mul(4)
      .add(ce(SHAPE0, SHAPES.length, 0))
      .add(ce(COLOR0, COLORS.length, 1))
      .add(ce(SIZE0, SIZES.length, 2))
      .add(offLoss.mul(10)) as tf.Scalar;
  });
}

function argmax(a: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[start + k] > a[start + best]) best = k;
  return best;
}

/**
 * Decodes the head output into objects per image. An object whose center lies on a cell border
 * (centers snap to a quarter-pixel grid, so x = 8.0 is common) can split its objectness between
 * two neighbouring cells, each below 0.5, while both cells' offsets point at the same center.
 * So: every cell with objectness > `candidate` proposes a center; proposals within `mergeDistance`
 * px (distinct objects are >= 7 px apart) form one cluster whose score is the sum of their
 * probabilities (capped at 1); clusters above `threshold` are objects, described by their most
 * confident cell.
 */
export function decodeHead(headData: Float32Array, batch: number, threshold = 0.5, candidate = 0.1, mergeDistance = 2.5): JudgedObject[][] {
  const out: JudgedObject[][] = [];
  for (let b = 0; b < batch; b++) {
    const found: JudgedObject[] = [];
    for (let gy = 0; gy < GRID; gy++) {
      for (let gx = 0; gx < GRID; gx++) {
        const base = ((b * GRID + gy) * GRID + gx) * HEAD_CHANNELS;
        const score = 1 / (1 + Math.exp(-headData[base]));
        if (score <= candidate) continue;
        const ox = offsetFromLogit(headData[base + OFF0]);
        const oy = offsetFromLogit(headData[base + OFF0 + 1]);
        found.push({
          shape: SHAPES[argmax(headData, base + SHAPE0, SHAPES.length)],
          color: COLORS[argmax(headData, base + COLOR0, COLORS.length)],
          size: SIZES[argmax(headData, base + SIZE0, SIZES.length)],
          cx: (gx + ox) * CELL,
          cy: (gy + oy) * CELL,
          score,
        });
      }
    }
    found.sort((p, q) => q.score - p.score);
    const clusters: JudgedObject[] = []; // representative (most confident) with the summed score
    for (const o of found) {
      const c = clusters.find((k) => Math.hypot(k.cx - o.cx, k.cy - o.cy) < mergeDistance);
      if (c) c.score = Math.min(1, c.score + o.score);
      else clusters.push({ ...o });
    }
    out.push(clusters.filter((c) => c.score > threshold));
  }
  return out;
}

/** (B, 32, 32, 3) float in [0,1] from RGB bytes; other sides are area-resampled to 32 first. */
export function imagesToJudgeInput(images: ReadonlyArray<{ rgb: ArrayLike<number>; width: number; height: number }>): tf.Tensor4D {
  const S = JUDGE_SIDE;
  const data = new Float32Array(images.length * S * S * 3);
  images.forEach((im, n) => {
    const off = n * S * S * 3;
    if (im.width === S && im.height === S) {
      for (let k = 0; k < S * S * 3; k++) data[off + k] = im.rgb[k] / 255;
      return;
    }
    // Box (area) resampling to 32x32: each output pixel averages the input pixels it covers.
    const sx = im.width / S;
    const sy = im.height / S;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const y0 = Math.floor(y * sy), y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
      const x0 = Math.floor(x * sx), x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += im.rgb[(yy * im.width + xx) * 3 + c];
        data[off + (y * S + x) * 3 + c] = s / ((y1 - y0) * (x1 - x0) * 255);
      }
    }
  });
  return tf.tensor4d(data, [images.length, S, S, 3]);
}

/** Runs the judge: decoded objects and FID features (B, 64) (positions scaled back to the input side). */
export async function judgeShapes(
  model: tf.LayersModel,
  images: ReadonlyArray<{ rgb: ArrayLike<number>; width: number; height: number }>,
  batchSize = 250,
): Promise<{ objects: JudgedObject[][]; features: Float32Array }> {
  const objects: JudgedObject[][] = [];
  const features = new Float32Array(images.length * FEATURE_DIM);
  for (let s = 0; s < images.length; s += batchSize) {
    const chunk = images.slice(s, s + batchSize);
    const [head, feat] = tf.tidy(() => {
      const x = imagesToJudgeInput(chunk);
      const [h, f] = model.predict(x) as tf.Tensor[];
      return [h, (f as tf.Tensor4D).mean([1, 2])]; // (B, 8, 8, 64) -> (B, 64)
    });
    const headData = (await head.data()) as Float32Array;
    features.set((await feat.data()) as Float32Array, s * FEATURE_DIM);
    head.dispose();
    feat.dispose();
    const decoded = decodeHead(headData, chunk.length);
    decoded.forEach((objs, k) => {
      const scale = chunk[k].width / JUDGE_SIDE;
      objects.push(objs.map((o) => ({ ...o, cx: o.cx * scale, cy: o.cy * scale })));
    });
  }
  return { objects, features };
}

export interface ShapesJudgeAccuracy {
  shape: number;
  color: number;
  size: number;
  /** Matched with the center within 5% of the side (1.6 px at 32). */
  position: number;
  /** Number of objects in the image exactly right. */
  count: number;
  /** Every "color shape" count of the image exactly right. */
  counts: number;
  /** Every object read completely right, and nothing extra. */
  scene: number;
  meanCenterError: number;
}

/** Greedy nearest-center matching of predictions to ground truth within `maxDistance` px. */
export function matchObjects<T extends { cx: number; cy: number }>(truth: TargetObject[], pred: T[], maxDistance: number): Array<T | null> {
  const pairs: Array<[number, number, number]> = [];
  truth.forEach((t, i) => pred.forEach((p, j) => pairs.push([Math.hypot(t.cx - p.cx, t.cy - p.cy), i, j])));
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Array<T | null> = truth.map(() => null);
  const usedP = new Set<number>();
  for (const [d, i, j] of pairs) {
    if (d > maxDistance || out[i] || usedP.has(j)) continue;
    out[i] = pred[j];
    usedP.add(j);
  }
  return out;
}

/** Per-attribute accuracy of judged objects against the true objects of each image. */
export function shapesJudgeAccuracy(truth: TargetObject[][], pred: JudgedObject[][], side: number): ShapesJudgeAccuracy {
  let nObj = 0, shape = 0, color = 0, size = 0, position = 0, errSum = 0, matched = 0;
  let count = 0, counts = 0, scene = 0;
  const key = (o: { color: string; shape: string }) => `${o.color} ${o.shape}`;
  truth.forEach((objs, i) => {
    const m = matchObjects(objs, pred[i], 0.2 * side);
    let allRight = pred[i].length === objs.length;
    objs.forEach((t, k) => {
      nObj++;
      const p = m[k];
      if (!p) {
        allRight = false;
        return;
      }
      const err = Math.hypot(p.cx - t.cx, p.cy - t.cy);
      matched++;
      errSum += err;
      const ok = [p.shape === t.shape, p.color === t.color, p.size === t.size, err <= 0.05 * side];
      shape += +ok[0];
      color += +ok[1];
      size += +ok[2];
      position += +ok[3];
      if (ok.includes(false)) allRight = false;
    });
    if (pred[i].length === objs.length) count++;
    const ct: Record<string, number> = {};
    const cp: Record<string, number> = {};
    for (const o of objs) ct[key(o)] = (ct[key(o)] ?? 0) + 1;
    for (const o of pred[i]) cp[key(o)] = (cp[key(o)] ?? 0) + 1;
    const keys = new Set([...Object.keys(ct), ...Object.keys(cp)]);
    if ([...keys].every((k) => ct[k] === cp[k])) counts++;
    if (allRight) scene++;
  });
  const n = truth.length;
  return {
    shape: shape / nObj, color: color / nObj, size: size / nObj, position: position / nObj,
    count: count / n, counts: counts / n, scene: scene / n, meanCenterError: matched ? errSum / matched : NaN,
  };
}
