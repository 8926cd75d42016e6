// Image grids with captions: samples, reconstructions, interpolations. Pixels are upscaled by an
// integer factor with nearest-neighbour sampling, so 28x28 or 32x32 images stay sharp and visible.
import { createCanvas, type CanvasRenderingContext2D } from 'canvas';
import type { Tensor } from '@tensorflow/tfjs';
import { CrossflowError, invalidValue } from '../errors';
import { displayBundle } from './inline';

/** An 8-bit RGB image, row-major, 3 bytes per pixel (length = width * height * 3). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Value range of a float tensor's pixels; there is no guessing, the caller states it. */
export type PixelRange = '[0,1]' | '[-1,1]';

export interface ImageGridOptions {
  /** Required for tensor input: the range its values use (clipped to it). */
  range?: PixelRange;
  /** Images per row; default min(N, 8). */
  cols?: number;
  /** Integer upscaling factor; default: enough for about 96 px per image side. */
  scale?: number;
  /** One caption per image, wrapped under it (at most `captionLines` lines). */
  captions?: string[];
  captionLines?: number;
  /** One label per row, drawn left of the row. */
  rowLabels?: string[];
  /** Gap between cells and around the grid, px. */
  pad?: number;
  fontSize?: number;
  background?: string;
  textColor?: string;
}

/** Accepts a (N, H, W, 3), (N, H, W, 1) or (N, H, W) tensor, or an array of RGB images. */
export type ImageGridInput = Tensor | RgbImage[];

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && 'shape' in x && 'dataSync' in x && 'rank' in x;
}

/** Converts the input to RGB images, validating shapes and range. */
export function toRgbImages(input: ImageGridInput, range?: PixelRange): RgbImage[] {
  if (!isTensor(input)) {
    for (const [i, img] of input.entries()) {
      if (img.data.length !== img.width * img.height * 3) {
        throw new CrossflowError(
          `image ${i}: data has ${img.data.length} bytes, expected width*height*3 = ${img.width * img.height * 3} (RGB, 8 bits)`,
        );
      }
    }
    return input;
  }
  if (range !== '[0,1]' && range !== '[-1,1]') throw invalidValue('range', range, "'[0,1]' or '[-1,1]' (required for tensors)");
  const shape = input.shape;
  const channels = input.rank === 3 ? 1 : shape[3];
  if ((input.rank !== 3 && input.rank !== 4) || (channels !== 1 && channels !== 3)) {
    throw invalidValue('image tensor shape', shape, '(N, H, W, 3), (N, H, W, 1) or (N, H, W)');
  }
  const [n, h, w] = shape as number[];
  const values = input.dataSync(); // (N, H, W, C) flattened
  const toByte = range === '[0,1]' ? (v: number) => v * 255 : (v: number) => (v + 1) * 127.5;
  const images: RgbImage[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8ClampedArray(h * w * 3); // clamps out-of-range values to 0..255
    for (let p = 0; p < h * w; p++) {
      for (let c = 0; c < 3; c++) {
        data[p * 3 + c] = Math.round(toByte(values[(i * h * w + p) * channels + (channels === 1 ? 0 : c)]));
      }
    }
    images.push({ width: w, height: h, data });
  }
  return images;
}

/** Splits text into lines no wider than maxWidth px; long words break mid-word. */
function wrapText(ctx: CanvasRenderingContext2D, text: string, maxWidth: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (ctx.measureText(candidate).width <= maxWidth) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      line = '';
      let rest = word;
      while (ctx.measureText(rest).width > maxWidth && rest.length > 1) {
        let cut = rest.length - 1;
        while (cut > 1 && ctx.measureText(rest.slice(0, cut)).width > maxWidth) cut--;
        lines.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}

/** Keeps at most maxLines lines, ending the last kept one with an ellipsis when text was cut. */
function clampLines(ctx: CanvasRenderingContext2D, lines: string[], maxLines: number, maxWidth: number): string[] {
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = kept[maxLines - 1];
  while (last.length > 0 && ctx.measureText(last + '…').width > maxWidth) last = last.slice(0, -1);
  kept[maxLines - 1] = last + '…';
  return kept;
}

/** Renders the grid to a PNG. Layout: [row label] [cell][cell]..., each cell image over its caption. */
export function renderImageGrid(input: ImageGridInput, opts: ImageGridOptions = {}): Buffer {
  const images = toRgbImages(input, opts.range);
  if (images.length === 0) throw new CrossflowError('renderImageGrid: no images to draw');
  if (opts.captions && opts.captions.length !== images.length) {
    throw new CrossflowError(`renderImageGrid: ${opts.captions.length} captions for ${images.length} images`);
  }
  const imgW = Math.max(...images.map((im) => im.width));
  const imgH = Math.max(...images.map((im) => im.height));
  const scale = opts.scale ?? Math.max(1, Math.ceil(96 / Math.max(imgW, imgH)));
  if (!Number.isInteger(scale) || scale < 1) throw invalidValue('scale', scale, 'a positive integer');
  const cols = opts.cols ?? Math.min(images.length, 8);
  const rows = Math.ceil(images.length / cols);
  if (opts.rowLabels && opts.rowLabels.length !== rows) {
    throw new CrossflowError(`renderImageGrid: ${opts.rowLabels.length} row labels for ${rows} rows`);
  }
  const pad = opts.pad ?? 4;
  const fontSize = opts.fontSize ?? 12;
  const lineHeight = Math.ceil(fontSize * 1.25);
  const cellW = imgW * scale;
  const cellH = imgH * scale;

  // Measure text on a scratch canvas: caption block height and row-label column width.
  const scratch = createCanvas(1, 1).getContext('2d');
  scratch.font = `${fontSize}px sans-serif`;
  const captionLines = (opts.captions ?? []).map((c) =>
    clampLines(scratch, wrapText(scratch, c, cellW), opts.captionLines ?? 3, cellW),
  );
  const captionH = captionLines.length ? Math.max(...captionLines.map((l) => l.length)) * lineHeight + 2 : 0;
  const labelW = opts.rowLabels ? Math.ceil(Math.max(...opts.rowLabels.map((l) => scratch.measureText(l).width))) + pad : 0;

  const width = pad + labelW + cols * (cellW + pad);
  const height = pad + rows * (cellH + captionH + pad);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = opts.background ?? '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.font = `${fontSize}px sans-serif`;
  ctx.fillStyle = opts.textColor ?? '#222222';
  ctx.textBaseline = 'top';

  images.forEach((img, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const x0 = pad + labelW + c * (cellW + pad);
    const y0 = pad + r * (cellH + captionH + pad);
    // Nearest-neighbour upscaling: every source pixel becomes a scale x scale block.
    const block = ctx.createImageData(img.width * scale, img.height * scale);
    for (let y = 0; y < img.height * scale; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < img.width * scale; x++) {
        const src = (sy * img.width + Math.floor(x / scale)) * 3;
        const dst = (y * img.width * scale + x) * 4;
        block.data[dst] = img.data[src];
        block.data[dst + 1] = img.data[src + 1];
        block.data[dst + 2] = img.data[src + 2];
        block.data[dst + 3] = 255;
      }
    }
    ctx.putImageData(block, x0, y0);
    ctx.textAlign = 'center';
    (captionLines[i] ?? []).forEach((line, k) => ctx.fillText(line, x0 + cellW / 2, y0 + cellH + 2 + k * lineHeight));
  });
  ctx.textAlign = 'left';
  (opts.rowLabels ?? []).forEach((label, r) => {
    const yMid = pad + r * (cellH + captionH + pad) + cellH / 2;
    ctx.fillText(label, pad, yMid - fontSize / 2);
  });
  return canvas.toBuffer('image/png');
}

/** Renders the grid and shows it inline in the notebook (returns nothing, so tslab prints nothing after it). */
export function showImageGrid(input: ImageGridInput, opts: ImageGridOptions = {}): void {
  displayBundle({ 'image/png': renderImageGrid(input, opts) });
}

/** Width and height of a PNG, read from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 24 || png.readUInt32BE(0) !== 0x89504e47) throw new CrossflowError('not a PNG image');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
