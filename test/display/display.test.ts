// Display helpers, checked on their real outputs: decoded PNG pixels, SVG text, PDF page size,
// HTML escaping. The plotly and PDF tests drive headless Chromium (a few seconds in all).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createCanvas, loadImage } from 'canvas';
import { pngSize, renderImageGrid, type RgbImage } from '../../lib/display/imageGrid';
import { plotHtml, plotPng, plotSvg, type PlotlyFigure } from '../../lib/display/plotly';
import { formatNumber, tableHtml } from '../../lib/display/table';
import { exportFigure } from '../../lib/display/export';
import { closeBrowser } from '../../lib/display/chromium';
import { displayBundle } from '../../lib/display/inline';

after(() => closeBrowser());

/** RGBA of one pixel of a PNG, decoded by canvas. */
async function pixel(png: Buffer, x: number, y: number): Promise<number[]> {
  const image = await loadImage(png);
  const ctx = createCanvas(image.width, image.height).getContext('2d');
  ctx.drawImage(image, 0, 0);
  return Array.from(ctx.getImageData(x, y, 1, 1).data);
}

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(rgb, p * 3);
  return { width, height, data };
}

test('image grid: layout size, nearest-neighbour upscaling and each cell keeps its colour', async () => {
  const colors: Array<[number, number, number]> = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  const images = colors.map((c) => solid(8, 8, c));
  // A checkerboard pixel in the last image: upscaled, it must become a sharp 4x4 block.
  images[2].data.set([255, 255, 0], (1 * 8 + 1) * 3);
  const png = renderImageGrid(images, { cols: 2, scale: 4, pad: 2 });
  const image = await loadImage(png);
  // 2 columns of 32 px with 3 pads; 2 rows, no captions.
  assert.deepEqual([image.width, image.height], [2 + 2 * (32 + 2), 2 + 2 * (32 + 2)]);
  assert.deepEqual(pngSize(png), { width: image.width, height: image.height });
  assert.deepEqual(await pixel(png, 2 + 5, 2 + 5), [255, 0, 0, 255]);
  assert.deepEqual(await pixel(png, 2 + 34 + 31, 2 + 31), [0, 255, 0, 255]);
  const third = [2, 2 + 34]; // (x, y) of the third cell: second row, first column
  assert.deepEqual(await pixel(png, third[0] + 0, third[1] + 0), [0, 0, 255, 255]);
  for (const [dx, dy] of [[4, 4], [7, 7], [4, 7], [7, 4]]) {
    assert.deepEqual(await pixel(png, third[0] + dx, third[1] + dy), [255, 255, 0, 255], `block pixel ${dx},${dy}`);
  }
  assert.deepEqual(await pixel(png, third[0] + 8, third[1] + 4), [0, 0, 255, 255]);
});

test('image grid from tensors: [-1,1] and [0,1] ranges map to the right bytes; captions and row labels add space', async () => {
  // (N=2, H=4, W=4, 3): image 0 is -1 (black) and image 1 is 0 (mid grey) in [-1,1].
  const batch = tf.concat([tf.fill([1, 4, 4, 3], -1), tf.zeros([1, 4, 4, 3])]);
  const png = renderImageGrid(batch, { range: '[-1,1]', scale: 2, pad: 0 });
  assert.deepEqual(await pixel(png, 1, 1), [0, 0, 0, 255]);
  assert.deepEqual(await pixel(png, 8 + 1, 1), [128, 128, 128, 255]);
  const unit = tf.fill([1, 2, 2, 1], 0.5); // grayscale (N, H, W, 1) in [0,1]
  assert.deepEqual(await pixel(renderImageGrid(unit, { range: '[0,1]', scale: 1, pad: 0 }), 0, 0), [128, 128, 128, 255]);
  assert.throws(() => renderImageGrid(batch), /range/);
  tf.dispose([batch, unit]);

  const plain = renderImageGrid([solid(32, 32, [9, 9, 9])], { scale: 2, pad: 0 });
  const captioned = renderImageGrid([solid(32, 32, [9, 9, 9])], {
    scale: 2,
    pad: 0,
    captions: ['a fairly long caption that has to wrap onto several lines'],
    rowLabels: ['samples'],
  });
  const [p, c] = [pngSize(plain), pngSize(captioned)];
  assert.ok(c.width > p.width, 'row label column');
  assert.ok(c.height >= p.height + 3 * 15, `wrapped caption lines below the image (${c.height} vs ${p.height})`);
  // The image itself is still where the layout puts it: right of the label column, top row.
  assert.deepEqual(await pixel(captioned, c.width - 2, 2), [9, 9, 9, 255]);
});

const figure: PlotlyFigure = {
  data: [{ type: 'scatter', mode: 'lines+markers', name: 'trace-alpha', x: [1, 2, 3], y: [10, 20, 15] }],
  layout: { title: { text: 'Throughput </script>' }, xaxis: { title: { text: 'matrix size N' } }, width: 480, height: 300 },
};

test('plotly: SVG has the axis title, trace and size; PNG decodes at the requested scale; HTML is self-contained', async () => {
  const svg = await plotSvg(figure);
  assert.match(svg, /^<svg[^>]*width="480"[^>]*height="300"/);
  assert.ok(svg.includes('matrix size N'), 'axis title');
  assert.ok(svg.includes('>Throughput'), 'title');
  assert.match(svg, /class="js-line" d="M[\d.,]+L[\d.,]+L[\d.,]+"/, 'one line with three points');
  const png = await plotPng(figure, { scale: 2 });
  assert.deepEqual(pngSize(png), { width: 960, height: 600 });
  assert.deepEqual(await pixel(png, 2, 2), [255, 255, 255, 255], 'white paper background');
  const html = plotHtml(figure);
  assert.ok(html.includes('Plotly.newPlot'));
  assert.ok(!/<script[^>]+src=/.test(html), 'no external script');
  assert.ok(html.includes('"trace-alpha"'));
  assert.ok(html.includes('Throughput \\u003c/script>'), 'JSON data cannot close the script block');
});

test('exportFigure: SVG, 2x PNG and a one-page PDF of the figure size, for a plotly figure and a PNG grid', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-fig-'));
  try {
    const out = await exportFigure('throughput', figure, { dir });
    assert.deepEqual([out.svg, out.png, out.pdf], ['svg', 'png', 'pdf'].map((e) => path.join(dir, `throughput.${e}`)));
    assert.ok(fs.readFileSync(out.svg, 'utf8').includes('matrix size N'));
    assert.deepEqual(pngSize(fs.readFileSync(out.png)), { width: 960, height: 600 });
    const pdf = fs.readFileSync(out.pdf);
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assertOnePage(pdf, 480, 300);

    const gridPng = renderImageGrid([solid(16, 16, [200, 30, 30])], { scale: 4, pad: 0 });
    const grid = await exportFigure('grid', gridPng, { dir });
    assert.deepEqual(fs.readFileSync(grid.png), gridPng);
    assert.ok(fs.readFileSync(grid.svg, 'utf8').includes(`data:image/png;base64,${gridPng.toString('base64')}`));
    const gridPdf = fs.readFileSync(grid.pdf);
    assertOnePage(gridPdf, 64, 64);
    assert.match(gridPdf.toString('latin1'), /\/Subtype\s*\/Image/, 'the PNG is embedded as an image');
    await assert.rejects(exportFigure('../escape', figure, { dir }), /figure name/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** One page whose MediaBox is the CSS-pixel size at 72/96 points per pixel. */
function assertOnePage(pdf: Buffer, widthPx: number, heightPx: number): void {
  const text = pdf.toString('latin1');
  assert.equal((text.match(/\/Type\s*\/Page\b/g) ?? []).length, 1, 'one page');
  const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(text);
  assert.ok(box, 'MediaBox');
  assert.ok(Math.abs(Number(box[1]) - widthPx * 0.75) < 1, `page width ${box[1]} pt`);
  assert.ok(Math.abs(Number(box[2]) - heightPx * 0.75) < 1, `page height ${box[2]} pt`);
}

test('tables: escaped cells, every value present, numbers formatted and right-aligned, DataFrame columns and index', async () => {
  const html = tableHtml(
    [
      { name: '<script>alert(1)</script>', loss: 0.123456, steps: 1000 },
      { name: 'a & b', loss: 1.5e-7, extra: 'only here' },
    ],
    { caption: 'runs <1>' },
  );
  assert.ok(!html.includes('<script>'));
  for (const text of ['&lt;script&gt;alert(1)&lt;/script&gt;', 'a &amp; b', '0.1235', '1.5e-7', '1000', 'only here', 'runs &lt;1&gt;']) {
    assert.ok(html.includes(`>${text}<`), text);
  }
  assert.match(html, /<th[^>]*text-align:right[^>]*>loss<\/th>/);
  assert.equal((html.match(/<tr>/g) ?? []).length, 3, 'header + 2 rows');

  const dfd = await import('danfojs-node');
  const df = new dfd.DataFrame({ size: [64, 128], gflops: [12.3456, 98.7] }, { index: ['a<', 'b'] });
  const dfHtml = tableHtml(df);
  for (const text of ['size', 'gflops', '64', '128', '12.35', '98.7', 'a&lt;', 'b']) assert.ok(dfHtml.includes(`>${text}<`), text);

  assert.equal(formatNumber(42), '42');
  assert.equal(formatNumber(3.14159), '3.142');
  assert.equal(formatNumber(123456789.5), '1.235e8');
  assert.equal(formatNumber(0.000123), '1.23e-4');
  assert.equal(formatNumber(NaN), 'NaN');
});

test('inline display outside a notebook says where it works', () => {
  assert.throws(() => displayBundle({ 'text/html': '<b>x</b>' }), /only inside a tslab notebook/);
});
