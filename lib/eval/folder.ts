// Reading a folder of samples written by `crossflow sample` or `crossflow data export`:
// DIR/samples.jsonl, one JSON object per line. Fields read here (others are ignored):
//   image file:  `file` | `image` | `path` (PNG, relative to DIR)
//   prompt:      `caption` (for text-to-image: the prompt the image was generated from)
//   dataset:     `dataset` ('shapes' | 'mnist' | 'fashion'), else inferred from the captions
//   captioning:  `prediction` | `generated` (the generated caption) with `references` | `captions`
//   super-res:   the image file with `target` (the high-resolution PNG)
//   depth:       `depth_file` and `target_depth_file`: raw little-endian float32 depth maps (H*W values)
import * as fs from 'fs';
import * as path from 'path';
import { loadImage, createCanvas } from 'canvas';
import { CrossflowError } from '../errors';

export interface FolderLine {
  [key: string]: unknown;
  caption?: string;
}

export interface FolderImage {
  rgb: Uint8ClampedArray;
  width: number;
  height: number;
  caption: string;
  line: FolderLine;
}

export function readSamplesJsonl(dir: string): FolderLine[] {
  const file = path.join(dir, 'samples.jsonl');
  if (!fs.existsSync(file)) throw new CrossflowError(`${file} not found: --images expects a folder written by 'crossflow sample' or 'crossflow data export' (samples.jsonl + images)`);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as FolderLine;
      } catch {
        throw new CrossflowError(`${file} line ${i + 1} is not JSON`);
      }
    });
}

export function imageFileOf(line: FolderLine): string | null {
  for (const k of ['file', 'image', 'path']) if (typeof line[k] === 'string') return line[k] as string;
  return null;
}

/** Decodes a PNG to RGB bytes (H, W, 3). */
export async function readPngRgb(file: string): Promise<{ rgb: Uint8ClampedArray; width: number; height: number }> {
  const img = await loadImage(fs.readFileSync(file));
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const rgba = ctx.getImageData(0, 0, img.width, img.height).data;
  const rgb = new Uint8ClampedArray(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) {
    rgb[i * 3] = rgba[i * 4];
    rgb[i * 3 + 1] = rgba[i * 4 + 1];
    rgb[i * 3 + 2] = rgba[i * 4 + 2];
  }
  return { rgb, width: img.width, height: img.height };
}

/** Writes RGB bytes as a PNG (used by tests and the notebook to make sample folders). */
export function writePngRgb(file: string, rgb: ArrayLike<number>, width: number, height: number): void {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    data.data[i * 4] = rgb[i * 3];
    data.data[i * 4 + 1] = rgb[i * 3 + 1];
    data.data[i * 4 + 2] = rgb[i * 3 + 2];
    data.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  fs.writeFileSync(file, canvas.toBuffer('image/png'));
}

/** Loads up to `limit` images with their captions. */
export async function readImageFolder(dir: string, limit?: number): Promise<FolderImage[]> {
  const lines = readSamplesJsonl(dir).filter((l) => imageFileOf(l));
  if (lines.length === 0) throw new CrossflowError(`${dir}/samples.jsonl names no image file (fields file, image or path)`);
  const chosen = limit ? lines.slice(0, limit) : lines;
  const out: FolderImage[] = [];
  for (const line of chosen) {
    const file = path.resolve(dir, imageFileOf(line) as string);
    if (!fs.existsSync(file)) throw new CrossflowError(`image ${file} listed in samples.jsonl does not exist`);
    const im = await readPngRgb(file);
    out.push({ ...im, caption: String(line.caption ?? ''), line });
  }
  return out;
}
