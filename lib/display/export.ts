// Figures for papers: any figure (a plotly figure, or a PNG such as an image grid) written as
// results/figures/<name>.svg, .png and .pdf. The PDF is one page of exactly the figure's size,
// printed by Chromium: vector for plotly figures, the PNG embedded for grids.
import * as fs from 'fs';
import * as path from 'path';
import { invalidValue } from '../errors';
import { repoPath } from '../paths';
import { withPage } from './chromium';
import { pngSize } from './imageGrid';
import { figureSize, plotPng, plotSvg, type PlotlyFigure, type PlotSize } from './plotly';

/** A plotly figure, or an already rendered PNG (e.g. from renderImageGrid). */
export type Figure = PlotlyFigure | Buffer;

export interface ExportOptions extends PlotSize {
  /** Output folder; default results/figures in the repository. */
  dir?: string;
  /** PNG pixel density for plotly figures (default 2). */
  scale?: number;
}

export interface ExportedFigure {
  svg: string;
  png: string;
  pdf: string;
  /** Figure size in CSS pixels (the PDF page is this size at 96 px per inch). */
  width: number;
  height: number;
}

export const FIGURES_DIR = repoPath('results', 'figures');

/** A one-page PDF of an SVG document exactly `width` x `height` CSS px. */
export function svgToPdf(svg: string, width: number, height: number): Promise<Buffer> {
  return withPage(async (page) => {
    await page.setViewportSize({ width: Math.ceil(width), height: Math.ceil(height) });
    await page.setContent(
      `<!doctype html><html><head><meta charset="utf-8"><style>@page{margin:0}html,body{margin:0;padding:0}svg{display:block}</style></head><body>${svg}</body></html>`,
    );
    return page.pdf({ width: `${width}px`, height: `${height}px`, printBackground: true, pageRanges: '1' });
  });
}

/** An SVG document showing a PNG at its pixel size (crisp, no smoothing when enlarged). */
export function pngToSvg(png: Buffer): string {
  const { width, height } = pngSize(png);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<image width="${width}" height="${height}" style="image-rendering:pixelated" xlink:href="data:image/png;base64,${png.toString('base64')}"/></svg>`
  );
}

/** Writes <dir>/<name>.svg, .png and .pdf and returns their paths. */
export async function exportFigure(name: string, figure: Figure, opts: ExportOptions = {}): Promise<ExportedFigure> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw invalidValue('figure name', name, 'letters, digits, ".", "_" and "-"');
  const dir = opts.dir ?? FIGURES_DIR;
  fs.mkdirSync(dir, { recursive: true });
  let svg: string;
  let png: Buffer;
  let size: { width: number; height: number };
  if (Buffer.isBuffer(figure)) {
    png = figure;
    size = pngSize(png);
    svg = pngToSvg(png);
  } else {
    size = figureSize(figure, opts);
    [svg, png] = await Promise.all([plotSvg(figure, size), plotPng(figure, { ...size, scale: opts.scale ?? 2 })]);
  }
  const pdf = await svgToPdf(svg, size.width, size.height);
  const out = { svg: path.join(dir, `${name}.svg`), png: path.join(dir, `${name}.png`), pdf: path.join(dir, `${name}.pdf`) };
  fs.writeFileSync(out.svg, svg);
  fs.writeFileSync(out.png, png);
  fs.writeFileSync(out.pdf, pdf);
  return { ...out, ...size };
}
