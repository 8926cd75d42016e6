import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'crypto';
import { generateDepth, renderDepthScene, DEFAULT_CAMERA, DepthScene, depthToUnit, unitToDepth, pixelRay, depthToTensors } from '../../lib/data/depth/scenes';
import { COLOR_RGB } from '../../lib/data/shapes/world';

const light = { direction: [0, 1, 0] as [number, number, number], color: [1, 1, 1] as [number, number, number], ambient: 0.3 };

test('empty scene: depth is the analytic ground-plane depth h / (sin(pitch) - v cos(pitch))', () => {
  const scene: DepthScene = { objects: [], camera: DEFAULT_CAMERA, light, groundColor: [0.7, 0.7, 0.7] };
  const W = 24, H = 16;
  const { depth, objectId } = renderDepthScene(scene, W, H);
  const tanY = Math.tan(DEFAULT_CAMERA.fovY / 2);
  for (let y = 0; y < H; y++) {
    const v = (1 - ((y + 0.5) / H) * 2) * tanY;
    const expected = DEFAULT_CAMERA.height / (Math.sin(DEFAULT_CAMERA.pitch) - v * Math.cos(DEFAULT_CAMERA.pitch));
    for (let x = 0; x < W; x++) {
      assert.ok(Math.abs(depth[y * W + x] - expected) < 1e-4 * expected);
      assert.equal(objectId[y * W + x], -1);
    }
  }
});

test('sphere: the pixel through its center sees depth (|c| - r) * c_z / |c| in camera space', () => {
  const W = 33, H = 33;
  const cam = DEFAULT_CAMERA;
  // Put the sphere center exactly on the optical axis through the middle pixel.
  const { origin, dir } = pixelRay(cam, W, H, 16.5, 16.5);
  const r = 0.5;
  // Points on the axis: origin + s * dir; choose s so the center has height r.
  const s = (r - origin[1]) / dir[1];
  const c = [origin[0] + s * dir[0], r, origin[2] + s * dir[2]];
  const scene: DepthScene = { objects: [{ kind: 'sphere', color: 'red', x: c[0], z: c[2], size: r, height: 2 * r, yaw: 0 }], camera: cam, light, groundColor: [0.7, 0.7, 0.7] };
  const { depth, objectId, rgb } = renderDepthScene(scene, W, H);
  const rel = [c[0] - origin[0], c[1] - origin[1], c[2] - origin[2]];
  const dist = Math.hypot(rel[0], rel[1], rel[2]);
  const dirLen = Math.hypot(dir[0], dir[1], dir[2]); // dir has unit optical-axis component
  const expected = (dist - r) / dirLen;
  const p = 16 * W + 16;
  assert.equal(objectId[p], 0);
  assert.ok(Math.abs(depth[p] - expected) < 1e-5, `${depth[p]} vs ${expected}`);
  // Lit from straight above with ambient 0.3: the center pixel is red, darker than full albedo.
  assert.ok(rgb[p * 3] > rgb[p * 3 + 1] * 3 && rgb[p * 3] <= COLOR_RGB.red[0]);
});

test('random scenes: deterministic bytes, depth in range, objects visible with their ids', () => {
  const a = generateDepth({ split: 'train', count: 6, seed: 0, size: 32 });
  const b = generateDepth({ split: 'train', count: 6, seed: 0, size: 32 });
  const hash = (xs: typeof a) => {
    const h = createHash('sha256');
    for (const x of xs) h.update(x.rgb).update(Buffer.from(x.depth.buffer));
    return h.digest('hex');
  };
  assert.equal(hash(a), hash(b));
  assert.notEqual(hash(a), hash(generateDepth({ split: 'val', count: 6, seed: 0, size: 32 })));
  for (const s of a) {
    assert.ok(s.depth.every((d) => d > 1.5 && d < 20));
    // Each object is visible somewhere, and nearer than the ground behind it would be.
    s.scene.objects.forEach((_o, id) => assert.ok(s.objectId.some((v) => v === id)));
    const round = unitToDepth(depthToUnit(s.depth));
    for (let k = 0; k < s.depth.length; k++) assert.ok(Math.abs(round[k] - s.depth[k]) < 1e-3 * s.depth[k]);
  }
});

test('depthToTensors: rgb in [0, 1] and normalized inverse depth', () => {
  const s = generateDepth({ split: 'test', count: 2, seed: 0, size: 16 });

  const { rgb, depth } = depthToTensors(s);
  assert.deepEqual(rgb.shape, [2, 16, 16, 3]);
  assert.deepEqual(depth.shape, [2, 16, 16, 1]);
  assert.ok(Math.abs(depth.dataSync()[256 + 17] - depthToUnit(s[1].depth)[17]) < 1e-7);
  assert.equal(rgb.dataSync()[5], Math.fround(s[0].rgb[5] / 255));
  rgb.dispose();
  depth.dispose();
});
