import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadImage, createCanvas } from 'canvas';
import { buildProgram } from '../../lib/cli/main';
import { generateShapes } from '../../lib/data/shapes/index';
import { generateDepth } from '../../lib/data/depth/scenes';

async function cli(args: string[]): Promise<void> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write; // keep test output clean
  try {
    await buildProgram().parseAsync(['node', 'crossflow', ...args]);
  } finally {
    process.stdout.write = write;
  }
}

async function pngPixels(file: string): Promise<Uint8ClampedArray> {
  const img = await loadImage(fs.readFileSync(file));
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, img.width, img.height).data;
}

test('export shapes: PNGs equal the generated pixels; samples.jsonl has file, caption, captions, attributes', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-export-'));
  await cli(['data', 'export', 'shapes', '--split', 'heldout', '--count', '6', '--seed', '3', '--out', out, '--json']);
  const lines = fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const samples = generateShapes({ split: 'heldout', count: 6, seed: 3 });
  assert.equal(lines.length, 6);
  for (let i = 0; i < 6; i++) {
    const l = lines[i];
    assert.equal(l.file, `${i}.png`);
    assert.equal(l.caption, samples[i].caption);
    assert.deepEqual(l.captions, samples[i].captions);
    assert.deepEqual(l.attributes, JSON.parse(JSON.stringify(samples[i].attributes)));
    const rgba = await pngPixels(path.join(out, l.file));
    for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) assert.equal(rgba[p * 4 + c], samples[i].rgb[p * 3 + c]);
  }
  fs.rmSync(out, { recursive: true });
});

test('export depth: exact depth in .npy, a depth PNG, and the RGB image', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-export-'));
  await cli(['data', 'export', 'depth', '--split', 'val', '--count', '2', '--seed', '0', '--out', out, '--size', '24']);
  const lines = fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const samples = generateDepth({ split: 'val', count: 2, seed: 0, size: 24 });
  const npy = fs.readFileSync(path.join(out, lines[1].depth));
  assert.equal(npy.subarray(1, 6).toString('latin1'), 'NUMPY');
  const headerLen = npy.readUInt16LE(8);
  assert.match(npy.subarray(10, 10 + headerLen).toString('latin1'), /'descr': '<f4', 'fortran_order': False, 'shape': \(24, 24\)/);
  assert.equal((10 + headerLen) % 64, 0);
  const depth = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLen, npy.byteOffset + npy.byteLength));
  assert.deepEqual(Array.from(depth), Array.from(samples[1].depth));
  assert.ok(fs.existsSync(path.join(out, lines[1].depthPng)));
  fs.rmSync(out, { recursive: true });
});

test('export mnist with super-resolution pairs', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-export-'));
  await cli(['data', 'export', 'mnist', '--split', 'test', '--count', '3', '--seed', '0', '--out', out, '--superres', '4']);
  const lines = fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.match(lines[0].caption, /^a handwritten (zero|one|two|three|four|five|six|seven|eight|nine)$/);
  assert.equal(lines[0].captions.length, 5);
  const low = await loadImage(fs.readFileSync(path.join(out, lines[0].low)));
  assert.deepEqual([low.width, low.height], [7, 7]);
  const up = await loadImage(fs.readFileSync(path.join(out, lines[0].lowUp)));
  assert.deepEqual([up.width, up.height], [28, 28]);
  await assert.rejects(() => cli(['data', 'export', 'cifar', '--count', '1', '--out', out]), /allowed: shapes, depth, mnist, fashion/);
  fs.rmSync(out, { recursive: true });
});
