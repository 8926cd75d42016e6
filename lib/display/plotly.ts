// Plotly figures as static SVG/PNG (rendered by plotly.js itself in headless Chromium, so they
// survive into nbconvert's HTML and into papers) and as a self-contained interactive HTML page.
import * as fs from 'fs';
import { withPlotlyPage } from './chromium';
import { displayBundle } from './inline';

/** A plotly.js figure: traces, layout and config exactly as plotly.js takes them. */
export interface PlotlyFigure {
  data: Array<Record<string, unknown>>;
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export interface PlotSize {
  /** CSS pixels; default: layout.width or 720. */
  width?: number;
  /** CSS pixels; default: layout.height or 450. */
  height?: number;
}

export function figureSize(fig: PlotlyFigure, size: PlotSize = {}): { width: number; height: number } {
  const layout = fig.layout ?? {};
  const width = size.width ?? (typeof layout.width === 'number' ? layout.width : 720);
  const height = size.height ?? (typeof layout.height === 'number' ? layout.height : 450);
  return { width, height };
}

/** Renders through Plotly.toImage in the shared page; returns the data URL. */
async function toImage(fig: PlotlyFigure, format: 'svg' | 'png', size: PlotSize, scale: number): Promise<string> {
  const { width, height } = figureSize(fig, size);
  return withPlotlyPage((page) =>
    page.evaluate(
      ({ fig, format, width, height, scale }) => {
        // Runs in the page, where plotly.js defined the global Plotly.
        const Plotly = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
        return Plotly.toImage(
          { data: fig.data, layout: { ...fig.layout, width, height }, config: fig.config },
          { format, width, height, scale },
        );
      },
      { fig, format, width, height, scale },
    ),
  );
}

/** The figure as a standalone SVG document (text). */
export async function plotSvg(fig: PlotlyFigure, size: PlotSize = {}): Promise<string> {
  const url = await toImage(fig, 'svg', size, 1);
  const comma = url.indexOf(',');
  const body = url.slice(comma + 1);
  return url.slice(0, comma).endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
}

/** The figure as a PNG; `scale` 2 (default) gives crisp lines on high-density screens and in print. */
export async function plotPng(fig: PlotlyFigure, size: PlotSize & { scale?: number } = {}): Promise<Buffer> {
  const url = await toImage(fig, 'png', size, size.scale ?? 2);
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
}

/**
 * An interactive, self-contained HTML page: plotly.js is inlined from node_modules, so the file
 * works offline and needs no network.
 */
export function plotHtml(fig: PlotlyFigure, title = plotTitle(fig)): string {
  const plotlySource = fs.readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  // JSON inside <script>: escape '<' so a string such as "</script>" in the data cannot end the block.
  const json = JSON.stringify({ data: fig.data, layout: fig.layout ?? {}, config: fig.config ?? { responsive: true } }).replace(
    /</g,
    '\\u003c',
  );
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeAttribute(title)}</title>`,
    `<script>${plotlySource.replace(/<\/script/gi, '<\\/script')}</script>`,
    '</head><body style="margin:0">',
    '<div id="plot" style="width:100%;height:100vh"></div>',
    `<script>const fig = ${json}; Plotly.newPlot('plot', fig.data, fig.layout, fig.config);</script>`,
    '</body></html>',
  ].join('\n');
}

/**
 * Shows the figure in the notebook as static images that nbconvert keeps in its HTML export:
 * text/html holding the SVG as an <img> (vector; nbconvert 6 strips inline SVG outputs) and a
 * 2x PNG shown at the figure's size for front ends that skip HTML. Returns nothing, so tslab
 * prints nothing after it.
 */
export async function showPlot(fig: PlotlyFigure, size: PlotSize = {}): Promise<void> {
  const { width, height } = figureSize(fig, size);
  const [svg, png] = await Promise.all([plotSvg(fig, { width, height }), plotPng(fig, { width, height, scale: 2 })]);
  const title = plotTitle(fig);
  const img = `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="${width}" height="${height}" alt="${escapeAttribute(title)}">`;
  displayBundle({ 'text/html': img, 'image/png': png }, { 'image/png': { width, height } });
}

function plotTitle(fig: PlotlyFigure): string {
  const title = fig.layout?.title;
  if (typeof title === 'string') return title;
  if (title && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') return (title as { text: string }).text;
  return 'plot';
}

function escapeAttribute(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
