// Writes a dataset split to a folder: <index>.png per sample (plus depth maps or low-res pairs),
// and samples.jsonl with one line per sample: file, caption, captions, attributes, and extras.
import * as fs from 'fs';
import * as path from 'path';
import { createCanvas } from 'canvas';
import { ensureOutputDir, invalidValue } from '../errors';
import { generateShapes, SPLITS as SHAPES_SPLITS } from './shapes/index';
import { generateDepth, depthToUnit, DEPTH_SPLITS } from './depth/scenes';
import { loadMnist, superResPair, MNIST_SPLITS, FASHION_CLASSES, DIGIT_WORDS, MnistDataset } from './mnist';

export const EXPORT_DATASETS = ['shapes', 'depth', 'mnist', 'fashion'] as const;
export type ExportDataset = (typeof EXPORT_DATASETS)[number];

export interface ExportOptions {
  dataset: ExportDataset;
  split: string;
  count: number;
  seed: number;
  out: string;
  /** Image side (shapes, depth; mnist/fashion: 28 or 32). */
  size?: number;
  /** mnist/fashion: also write the low-res image and its bicubic upsampling for this factor. */
  superres?: number;
}

export interface ExportReport {
  dataset: ExportDataset;
  split: string;
  count: number;
  seed: number;
  out: string;
  files: number;
  jsonl: string;
  seconds: number;
}

/** PNG bytes of an (H, W, C) image, C = 1 (gray) or 3 (RGB), bytes or floats in [0, 1]. */
export function encodePng(data: ArrayLike<number>, width: number, height: number, channels: 1 | 3, floats = false): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const v = data[p * channels + (channels === 1 ? 0 : c)];
      img.data[p * 4 + c] = floats ? Math.round(Math.min(1, Math.max(0, v)) * 255) : v;
    }
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toBuffer('image/png');
}

/** A float32 array as a .npy file (NumPy format 1.0, little-endian), readable by numpy.load. */
export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export function exportDataset(opts: ExportOptions): ExportReport {
  const t0 = Date.now();
  if (!(EXPORT_DATASETS as readonly string[]).includes(opts.dataset)) throw invalidValue('dataset', opts.dataset, EXPORT_DATASETS.join(', '));
  if (!Number.isInteger(opts.count) || opts.count < 1) throw invalidValue('count', opts.count, 'a positive integer');
  ensureOutputDir('--out', opts.out);
  const lines: string[] = [];
  let files = 0;
  const write = (name: string, bytes: Buffer) => {
    fs.writeFileSync(path.join(opts.out, name), bytes);
    files++;
  };
  if (opts.dataset === 'shapes') {
    if (!(SHAPES_SPLITS as readonly string[]).includes(opts.split)) throw invalidValue('split', opts.split, SHAPES_SPLITS.join(', '));
    for (const s of generateShapes({ split: opts.split as (typeof SHAPES_SPLITS)[number], count: opts.count, seed: opts.seed, size: opts.size })) {
      const file = `${s.index}.png`;
      write(file, encodePng(s.rgb, s.width, s.height, 3));
      lines.push(JSON.stringify({ file, index: s.index, split: s.split, width: s.width, height: s.height, caption: s.caption, captions: s.captions, attributes: s.attributes }));
    }
  } else if (opts.dataset === 'depth') {
    if (!(DEPTH_SPLITS as readonly string[]).includes(opts.split)) throw invalidValue('split', opts.split, DEPTH_SPLITS.join(', '));
    for (const s of generateDepth({ split: opts.split as (typeof DEPTH_SPLITS)[number], count: opts.count, seed: opts.seed, size: opts.size })) {
      const file = `${s.index}.png`;
      write(file, encodePng(s.rgb, s.width, s.height, 3));
      const depthPng = `${s.index}.depth.png`;
      write(depthPng, encodePng(depthToUnit(s.depth), s.width, s.height, 1, true));
      const depthNpy = `${s.index}.depth.npy`;
      write(depthNpy, encodeNpy(s.depth, [s.height, s.width]));
      lines.push(JSON.stringify({ file, index: s.index, split: s.split, width: s.width, height: s.height, caption: s.caption, captions: [s.caption], attributes: s.scene, depth: depthNpy, depthPng, depthUnits: 'camera-space z (world units); depth.png shows normalized inverse depth' }));
    }
  } else {
    if (!(MNIST_SPLITS as readonly string[]).includes(opts.split)) throw invalidValue('split', opts.split, MNIST_SPLITS.join(', '));
    const size = (opts.size ?? 28) as 28 | 32;
    const samples = loadMnist({ dataset: opts.dataset as MnistDataset, split: opts.split as (typeof MNIST_SPLITS)[number], count: opts.count, seed: opts.seed, size });
    for (const s of samples) {
      const file = `${s.index}.png`;
      write(file, encodePng(s.pixels, s.width, s.height, 1, true));
      const className = opts.dataset === 'mnist' ? DIGIT_WORDS[s.label] : FASHION_CLASSES[s.label];
      const line: Record<string, unknown> = { file, index: s.index, split: s.split, width: s.width, height: s.height, caption: s.caption, captions: s.captions, attributes: { label: s.label, className, classIndex: s.classIndex } };
      if (opts.superres) {
        const pair = superResPair(s.pixels, s.width, s.height, opts.superres);
        line.low = `${s.index}.low.png`;
        line.lowUp = `${s.index}.lowup.png`;
        write(line.low as string, encodePng(pair.low, s.width / opts.superres, s.height / opts.superres, 1, true));
        write(line.lowUp as string, encodePng(pair.lowUp, s.width, s.height, 1, true));
      }
      lines.push(JSON.stringify(line));
    }
  }
  const jsonl = path.join(opts.out, 'samples.jsonl');
  fs.writeFileSync(jsonl, lines.join('\n') + '\n');
  return { dataset: opts.dataset, split: opts.split, count: lines.length, seed: opts.seed, out: opts.out, files, jsonl, seconds: (Date.now() - t0) / 1000 };
}
