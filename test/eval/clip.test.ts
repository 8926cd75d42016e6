// CLIP score and R-precision with the project's small CLIP on real Shapes test images: matched
// captions score far above mismatched ones, and retrieval among 32 is far above chance (1/32).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProjectClip, clipScoreFromEmbeddings, rPrecisionFromEmbeddings } from '../../lib/eval/clipScore';
import { generateShapes } from '../../lib/data/shapes/index';

test('small CLIP on real data: matched >> mismatched captions, R-precision >> 1/32', async () => {
  const clip = await loadProjectClip();
  const s = generateShapes({ split: 'test', count: 300, seed: 0 });
  const img = await clip.embedImages(s);
  const txt = await clip.embedTexts(s.map((x) => x.caption));
  const wrong = await clip.embedTexts(s.map((_, i) => s[(i + 7) % s.length].caption));
  const matched = clipScoreFromEmbeddings(img, txt, clip.dim);
  const mismatched = clipScoreFromEmbeddings(img, wrong, clip.dim);
  assert.ok(matched > mismatched + 0.3, `matched ${matched} vs mismatched ${mismatched}`);
  const r = rPrecisionFromEmbeddings(img, txt, s.map((x) => x.caption), clip.dim);
  assert.ok(r > 0.5, `R-precision ${r}`);
  // Embeddings are unit vectors: the score of an image with its own embedding as "text" is 1.
  assert.ok(Math.abs(clipScoreFromEmbeddings(img, img, clip.dim) - 1) < 1e-5);
});
