// Draws a Shapes scene with node-canvas. Antialiasing is done by us, not by cairo: the scene is
// filled without antialiasing on a canvas `supersample` times larger, then box-averaged with
// integer arithmetic. The output is therefore identical bytes on every run and machine, edges
// are still smooth, and pixels well inside an object carry its exact color.
import { createCanvas, Canvas } from 'canvas';
import { BACKGROUND_RGB, COLOR_RGB, Shape, Color, Size } from './world';

export interface ShapeObject {
  shape: Shape;
  color: Color;
  size: Size;
  /** Center in pixels, x to the right, y down; pixel (i, j) covers [i, i+1) x [j, j+1). */
  cx: number;
  cy: number;
  /** Nominal radius in pixels (set by `size`); the shape reaches radius * SHAPE_EXTENT[shape]. */
  radius: number;
}

const canvases = new Map<number, Canvas>();

function canvasOf(side: number): Canvas {
  let canvas = canvases.get(side);
  if (!canvas) {
    canvas = createCanvas(side, side);
    canvases.set(side, canvas);
  }
  return canvas;
}

type Ctx = ReturnType<Canvas['getContext']>;

/** Traces one object's outline (in output-pixel units; the context is scaled). */
export function traceShape(ctx: Ctx, o: ShapeObject): void {
  const { cx, cy, radius: r } = o;
  ctx.beginPath();
  switch (o.shape) {
    case 'circle':
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      break;
    case 'square': {
      const h = 0.8 * r;
      ctx.rect(cx - h, cy - h, 2 * h, 2 * h);
      break;
    }
    case 'triangle': {
      // Equilateral, pointing up, centroid at (cx, cy).
      const R = 1.15 * r;
      ctx.moveTo(cx, cy - R);
      ctx.lineTo(cx + (R * Math.sqrt(3)) / 2, cy + R / 2);
      ctx.lineTo(cx - (R * Math.sqrt(3)) / 2, cy + R / 2);
      break;
    }
    case 'diamond': {
      const R = 1.1 * r;
      ctx.moveTo(cx, cy - R);
      ctx.lineTo(cx + R, cy);
      ctx.lineTo(cx, cy + R);
      ctx.lineTo(cx - R, cy);
      break;
    }
  }
  ctx.closePath();
}

/**
 * Renders objects on a `side` x `side` black image. Returns RGB bytes, (H, W, 3) row-major.
 * `supersample` = 1 gives hard aliased edges.
 */
export function renderShapes(objects: readonly ShapeObject[], side: number, supersample = 4): Uint8ClampedArray {
  const ss = Math.max(1, Math.floor(supersample));
  const big = side * ss;
  const canvas = canvasOf(big);
  const ctx = canvas.getContext('2d');
  ctx.antialias = 'none';
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = `rgb(${BACKGROUND_RGB.join(',')})`;
  ctx.fillRect(0, 0, big, big);
  ctx.setTransform(ss, 0, 0, ss, 0, 0);
  for (const o of objects) {
    ctx.fillStyle = `rgb(${COLOR_RGB[o.color].join(',')})`;
    traceShape(ctx, o);
    ctx.fill();
  }
  const rgba = ctx.getImageData(0, 0, big, big).data; // (ss*H, ss*W, 4)
  const out = new Uint8ClampedArray(side * side * 3); // (H, W, 3)
  const n = ss * ss;
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let r = 0, g = 0, b = 0;
      for (let dy = 0; dy < ss; dy++) {
        let p = ((y * ss + dy) * big + x * ss) * 4;
        for (let dx = 0; dx < ss; dx++, p += 4) {
          r += rgba[p];
          g += rgba[p + 1];
          b += rgba[p + 2];
        }
      }
      const q = (y * side + x) * 3;
      // Integer rounding of the box mean: exact and platform independent.
      out[q] = Math.floor((r * 2 + n) / (2 * n));
      out[q + 1] = Math.floor((g * 2 + n) / (2 * n));
      out[q + 2] = Math.floor((b * 2 + n) / (2 * n));
    }
  return out;
}
