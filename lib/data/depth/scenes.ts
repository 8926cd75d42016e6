// Depth scenes for the image-to-depth task: shaded spheres, boxes and cylinders standing on a
// checkered ground plane, seen by a pinhole camera tilted down (the horizon is out of view, so
// every pixel sees geometry), lit by a random directional light with cast shadows. Rendered by
// ray casting, so the depth map is exact: the camera-space z of the surface hit by each pixel's
// central ray. Colors are averaged over 2x2 rays per pixel (antialiasing); depth uses the center ray.
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../../errors';
import { Rng, sampleRng } from '../rng';
import { COLORS, COLOR_RGB, Color } from '../shapes/world';

export const DEPTH_OBJECTS = ['sphere', 'box', 'cylinder'] as const;
export type DepthObjectKind = (typeof DEPTH_OBJECTS)[number];
export const DEPTH_SPLITS = ['train', 'val', 'test'] as const;
export type DepthSplit = (typeof DEPTH_SPLITS)[number];

type Vec3 = [number, number, number];

export interface DepthObject {
  kind: DepthObjectKind;
  color: Color;
  /** Ground position of the object's center (world x right, z forward; y is up, ground at y = 0). */
  x: number;
  z: number;
  /** Sphere/cylinder radius, or half the box side. */
  size: number;
  /** Cylinder height (others: 2*size). */
  height: number;
  /** Box rotation about the vertical axis, radians. */
  yaw: number;
}

export interface DepthCamera {
  /** Height of the eye above the ground. */
  height: number;
  /** Downward tilt of the optical axis, radians. */
  pitch: number;
  /** Vertical field of view, radians. */
  fovY: number;
}

export interface DepthLight {
  /** Unit vector pointing toward the light. */
  direction: Vec3;
  color: Vec3;
  ambient: number;
}

export interface DepthScene {
  objects: DepthObject[];
  camera: DepthCamera;
  light: DepthLight;
  groundColor: Vec3;
}

export interface DepthSample {
  index: number;
  split: DepthSplit;
  width: number;
  height: number;
  /** (H, W, 3) RGB bytes. */
  rgb: Uint8ClampedArray;
  /** (H, W) camera-space z of the visible surface (world units). */
  depth: Float32Array;
  /** (H, W) index of the visible object, -1 for the ground. */
  objectId: Int16Array;
  scene: DepthScene;
  caption: string;
}

/** Depth range used to normalize depth maps to [0, 1] (all scenes fall inside it). */
export const DEPTH_NEAR = 1.5;
export const DEPTH_FAR = 20;

export const DEFAULT_CAMERA: DepthCamera = { height: 2, pitch: (32 * Math.PI) / 180, fovY: (50 * Math.PI) / 180 };

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const normalize = (a: Vec3): Vec3 => {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
};

interface Hit {
  t: number;
  normal: Vec3;
  id: number;
}

/** Camera basis: forward (optical axis), up and right, for a camera at (0, height, 0) looking along +z tilted down. */
export function cameraBasis(cam: DepthCamera): { origin: Vec3; forward: Vec3; up: Vec3; right: Vec3 } {
  const s = Math.sin(cam.pitch);
  const c = Math.cos(cam.pitch);
  return { origin: [0, cam.height, 0], forward: [0, -s, c], up: [0, c, s], right: [1, 0, 0] };
}

/**
 * The ray through image point (px, py) (pixel units, 0..W, 0..H). Its direction has unit component
 * along the optical axis, so the ray parameter t of a hit IS the camera-space depth.
 */
export function pixelRay(cam: DepthCamera, width: number, height: number, px: number, py: number): { origin: Vec3; dir: Vec3 } {
  const { origin, forward, up, right } = cameraBasis(cam);
  const tanY = Math.tan(cam.fovY / 2);
  const u = ((px / width) * 2 - 1) * tanY * (width / height);
  const v = (1 - (py / height) * 2) * tanY;
  return { origin, dir: [forward[0] + u * right[0] + v * up[0], forward[1] + u * right[1] + v * up[1], forward[2] + u * right[2] + v * up[2]] };
}

function hitSphere(o: Vec3, d: Vec3, obj: DepthObject): { t: number; normal: Vec3 } | null {
  const c: Vec3 = [obj.x, obj.size, obj.z];
  const oc = sub(o, c);
  const a = dot(d, d);
  const b = dot(oc, d);
  const cc = dot(oc, oc) - obj.size * obj.size;
  const disc = b * b - a * cc;
  if (disc < 0) return null;
  const t = (-b - Math.sqrt(disc)) / a;
  if (t <= 1e-6) return null;
  const p: Vec3 = [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]];
  return { t, normal: normalize(sub(p, c)) };
}

function hitBox(o: Vec3, d: Vec3, obj: DepthObject): { t: number; normal: Vec3 } | null {
  // Into the box frame: translate to its center, rotate by -yaw about y. Slab test on [-s, s]^3.
  const cs = Math.cos(obj.yaw);
  const sn = Math.sin(obj.yaw);
  const toLocal = (v: Vec3): Vec3 => [cs * v[0] - sn * v[2], v[1], sn * v[0] + cs * v[2]];
  const lo = toLocal([o[0] - obj.x, o[1] - obj.size, o[2] - obj.z]);
  const ld = toLocal(d);
  let tmin = -Infinity;
  let tmax = Infinity;
  let axis = 0;
  let sign = 1;
  for (let k = 0; k < 3; k++) {
    if (Math.abs(ld[k]) < 1e-12) {
      if (Math.abs(lo[k]) > obj.size) return null;
      continue;
    }
    let t1 = (-obj.size - lo[k]) / ld[k];
    let t2 = (obj.size - lo[k]) / ld[k];
    let s = -1;
    if (t1 > t2) {
      [t1, t2] = [t2, t1];
      s = 1;
    }
    if (t1 > tmin) {
      tmin = t1;
      axis = k;
      sign = s;
    }
    tmax = Math.min(tmax, t2);
  }
  if (tmin > tmax || tmin <= 1e-6) return null;
  const ln: Vec3 = [0, 0, 0];
  ln[axis] = sign;
  // Back to world: rotate by +yaw.
  return { t: tmin, normal: [cs * ln[0] + sn * ln[2], ln[1], -sn * ln[0] + cs * ln[2]] };
}

function hitCylinder(o: Vec3, d: Vec3, obj: DepthObject): { t: number; normal: Vec3 } | null {
  const r = obj.size;
  let best: { t: number; normal: Vec3 } | null = null;
  // Side: (x - cx)^2 + (z - cz)^2 = r^2 with 0 <= y <= height.
  const ox = o[0] - obj.x;
  const oz = o[2] - obj.z;
  const a = d[0] * d[0] + d[2] * d[2];
  const b = ox * d[0] + oz * d[2];
  const c = ox * ox + oz * oz - r * r;
  const disc = b * b - a * c;
  if (a > 1e-12 && disc >= 0) {
    const t = (-b - Math.sqrt(disc)) / a;
    const y = o[1] + t * d[1];
    if (t > 1e-6 && y >= 0 && y <= obj.height) best = { t, normal: [(ox + t * d[0]) / r, 0, (oz + t * d[2]) / r] };
  }
  // Top cap: y = height, inside the disc.
  if (Math.abs(d[1]) > 1e-12) {
    const t = (obj.height - o[1]) / d[1];
    const x = ox + t * d[0];
    const z = oz + t * d[2];
    if (t > 1e-6 && x * x + z * z <= r * r && (!best || t < best.t)) best = { t, normal: [0, 1, 0] };
  }
  return best;
}

function hitObject(o: Vec3, d: Vec3, obj: DepthObject): { t: number; normal: Vec3 } | null {
  if (obj.kind === 'sphere') return hitSphere(o, d, obj);
  if (obj.kind === 'box') return hitBox(o, d, obj);
  return hitCylinder(o, d, obj);
}

/** The nearest surface along a ray (objects or the ground plane y = 0). */
export function castRay(scene: DepthScene, o: Vec3, d: Vec3): Hit | null {
  let best: Hit | null = null;
  scene.objects.forEach((obj, id) => {
    const h = hitObject(o, d, obj);
    if (h && (!best || h.t < best.t)) best = { t: h.t, normal: h.normal, id };
  });
  if (d[1] < 0) {
    const t = -o[1] / d[1];
    if (!best || t < (best as Hit).t) best = { t, normal: [0, 1, 0], id: -1 };
  }
  return best;
}

function shade(scene: DepthScene, o: Vec3, d: Vec3, hit: Hit): Vec3 {
  const p: Vec3 = [o[0] + hit.t * d[0], o[1] + hit.t * d[1], o[2] + hit.t * d[2]];
  let albedo: Vec3;
  if (hit.id >= 0) {
    const rgb = COLOR_RGB[scene.objects[hit.id].color];
    albedo = [rgb[0] / 255, rgb[1] / 255, rgb[2] / 255];
  } else {
    // A checker of 0.5-unit tiles: a texture gradient that makes perspective visible.
    const check = (Math.floor(p[0] * 2) + Math.floor(p[2] * 2)) & 1;
    const k = check ? 1 : 0.8;
    albedo = [scene.groundColor[0] * k, scene.groundColor[1] * k, scene.groundColor[2] * k];
  }
  const L = scene.light.direction;
  let diffuse = Math.max(0, dot(hit.normal, L));
  if (diffuse > 0) {
    const start: Vec3 = [p[0] + 1e-4 * hit.normal[0], p[1] + 1e-4 * hit.normal[1], p[2] + 1e-4 * hit.normal[2]];
    if (scene.objects.some((obj) => hitObject(start, L, obj) !== null)) diffuse = 0; // in shadow
  }
  const k = scene.light.ambient + (1 - scene.light.ambient) * diffuse;
  return [albedo[0] * k * scene.light.color[0], albedo[1] * k * scene.light.color[1], albedo[2] * k * scene.light.color[2]];
}

/** Renders a scene: RGB (2x2 rays per pixel), exact depth and object ids (center ray). */
export function renderDepthScene(scene: DepthScene, width: number, height: number): { rgb: Uint8ClampedArray; depth: Float32Array; objectId: Int16Array } {
  const rgb = new Uint8ClampedArray(width * height * 3);
  const depth = new Float32Array(width * height);
  const objectId = new Int16Array(width * height);
  const offsets = [0.25, 0.75];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const center = pixelRay(scene.camera, width, height, x + 0.5, y + 0.5);
      const hit = castRay(scene, center.origin, center.dir);
      depth[y * width + x] = hit ? hit.t : DEPTH_FAR;
      objectId[y * width + x] = hit ? hit.id : -1;
      const acc = [0, 0, 0];
      for (const dy of offsets)
        for (const dx of offsets) {
          const ray = pixelRay(scene.camera, width, height, x + dx, y + dy);
          const h = castRay(scene, ray.origin, ray.dir);
          if (!h) continue;
          const c = shade(scene, ray.origin, ray.dir, h);
          acc[0] += c[0];
          acc[1] += c[1];
          acc[2] += c[2];
        }
      for (let k = 0; k < 3; k++) rgb[(y * width + x) * 3 + k] = Math.round((acc[k] / 4) * 255);
    }
  return { rgb, depth, objectId };
}

function randomScene(rng: Rng): DepthScene {
  const count = 1 + rng.int(3);
  const objects: DepthObject[] = [];
  for (let tries = 0; objects.length < count && tries < 200; tries++) {
    const kind = rng.pick(DEPTH_OBJECTS);
    const size = rng.uniform(0.3, 0.6);
    const obj: DepthObject = {
      kind,
      color: rng.pick(COLORS),
      x: rng.uniform(-1.6, 1.6),
      z: rng.uniform(3.2, 7.5),
      size,
      height: kind === 'cylinder' ? rng.uniform(0.5, 1.4) : 2 * size,
      yaw: kind === 'box' ? rng.uniform(0, Math.PI / 2) : 0,
    };
    // Footprints (bounding circles) must not intersect.
    const reach = (o: DepthObject) => (o.kind === 'box' ? o.size * Math.SQRT2 : o.size);
    if (objects.some((p) => Math.hypot(p.x - obj.x, p.z - obj.z) < reach(p) + reach(obj) + 0.1)) continue;
    objects.push(obj);
  }
  const elevation = rng.uniform(0.5, 1.2); // radians above the horizon
  const azimuth = rng.uniform(-Math.PI, Math.PI);
  const direction = normalize([Math.cos(elevation) * Math.sin(azimuth), Math.sin(elevation), -Math.cos(elevation) * Math.cos(azimuth)]);
  const warmth = rng.uniform(-0.1, 0.1);
  const g = rng.uniform(0.55, 0.85);
  return {
    objects,
    camera: { ...DEFAULT_CAMERA, height: DEFAULT_CAMERA.height + rng.uniform(-0.2, 0.2), pitch: DEFAULT_CAMERA.pitch + rng.uniform(-0.05, 0.05) },
    light: { direction, color: [1 + warmth, 1, 1 - warmth], ambient: rng.uniform(0.2, 0.35) },
    groundColor: [g, g, g * rng.uniform(0.9, 1.05)],
  };
}

const NUMBERS = ['zero', 'one', 'two', 'three'];
const PLURALS: Record<DepthObjectKind, string> = { sphere: 'spheres', box: 'boxes', cylinder: 'cylinders' };

function describe(scene: DepthScene): string {
  const groups = new Map<string, { color: Color; kind: DepthObjectKind; n: number }>();
  for (const o of scene.objects) {
    const key = `${o.color} ${o.kind}`;
    const g = groups.get(key) ?? { color: o.color, kind: o.kind, n: 0 };
    g.n++;
    groups.set(key, g);
  }
  const names = [...groups.values()].map((g) =>
    g.n === 1 ? `${/^[aeiou]/.test(g.color) ? 'an' : 'a'} ${g.color} ${g.kind}` : `${NUMBERS[g.n]} ${g.color} ${PLURALS[g.kind]}`,
  );
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${list} on the ground`;
}

/** Random depth scenes of a split, deterministic by (split, seed, index). */
export function generateDepth(opts: { split: DepthSplit; count: number; seed: number; size?: number; start?: number }): DepthSample[] {
  if (!(DEPTH_SPLITS as readonly string[]).includes(opts.split)) throw invalidValue('split', opts.split, DEPTH_SPLITS.join(', '));
  const side = opts.size ?? 32;
  if (!Number.isInteger(side) || side < 8 || side > 512) throw invalidValue('size', side, 'an integer image side from 8 to 512');
  const start = opts.start ?? 0;
  const out: DepthSample[] = [];
  for (let i = start; i < start + opts.count; i++) {
    const scene = randomScene(sampleRng('depth', opts.split, opts.seed, i));
    let { rgb, depth, objectId } = renderDepthScene(scene, side, side);
    // An object hidden behind another (or outside the view) would make the caption wrong: drop it and re-render.
    const visible = scene.objects.map((_o, id) => objectId.some((v) => v === id));
    if (visible.some((v) => !v)) {
      scene.objects = scene.objects.filter((_o, id) => visible[id]);
      ({ rgb, depth, objectId } = renderDepthScene(scene, side, side));
    }
    out.push({ index: i, split: opts.split, width: side, height: side, rgb, depth, objectId, scene, caption: describe(scene) });
  }
  return out;
}

/**
 * Depth as normalized inverse depth (disparity) in [0, 1]: 1 at DEPTH_NEAR, 0 at DEPTH_FAR. Inverse
 * depth spends the range where the scene is (near objects), the usual target of depth estimation.
 */
export function depthToUnit(depth: Float32Array): Float32Array {
  const a = 1 / DEPTH_NEAR;
  const b = 1 / DEPTH_FAR;
  return depth.map((d) => Math.min(1, Math.max(0, (1 / d - b) / (a - b))));
}

/** Inverse of depthToUnit: camera-space depth from normalized inverse depth. */
export function unitToDepth(unit: Float32Array): Float32Array {
  const a = 1 / DEPTH_NEAR;
  const b = 1 / DEPTH_FAR;
  return unit.map((u) => 1 / (b + Math.min(1, Math.max(1e-6, u)) * (a - b)));
}

/** Image-to-depth batch: rgb (N, H, W, 3) in [0, 1] and depth (N, H, W, 1) as normalized inverse depth (depthToUnit). */
export function depthToTensors(samples: readonly DepthSample[]): { rgb: tf.Tensor4D; depth: tf.Tensor4D } {
  if (samples.length === 0) throw invalidValue('samples', '[]', 'at least one sample');
  const { width: W, height: H } = samples[0];
  const rgb = new Float32Array(samples.length * H * W * 3);
  const depth = new Float32Array(samples.length * H * W);
  samples.forEach((s, n) => {
    for (let k = 0; k < H * W * 3; k++) rgb[n * H * W * 3 + k] = s.rgb[k] / 255;
    depth.set(depthToUnit(s.depth), n * H * W);
  });
  return { rgb: tf.tensor4d(rgb, [samples.length, H, W, 3]), depth: tf.tensor4d(depth, [samples.length, H, W, 1]) };
}
