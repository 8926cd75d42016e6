import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captionTokenizer, BOS_ID, EOS_ID, PAD_ID, UNK_ID, DEFAULT_MAX_TOKENS } from '../../lib/text/tokenizer';
import { generateShapes } from '../../lib/data/shapes/index';
import { classCaptions } from '../../lib/data/mnist';
import { CrossflowError } from '../../lib/errors';

test('every caption of every dataset tokenizes within maxTokens and decodes back', () => {
  const tok = captionTokenizer();
  const captions: string[] = [];
  for (const split of ['train', 'heldout'] as const) for (const s of generateShapes({ split, count: 300, seed: 0 })) captions.push(...s.captions);
  for (const d of ['mnist', 'fashion'] as const) for (let l = 0; l < 10; l++) captions.push(...classCaptions(d, l));
  const batch = tok.encode(captions);
  assert.equal(batch.ids.length, captions.length * DEFAULT_MAX_TOKENS);
  captions.forEach((c, b) => {
    assert.equal(tok.decode(batch.ids.subarray(b * 16, b * 16 + 16)), c.replace(/,/g, '').replace(/-/g, ''));
    assert.equal(batch.ids[b * 16], BOS_ID);
    assert.equal(batch.ids[b * 16 + batch.lengths[b] - 1], EOS_ID);
  });
});

test('padding and mask', () => {
  const tok = captionTokenizer();
  const b = tok.encode(['a red circle', 'two blue squares'], { maxTokens: 8 });
  assert.deepEqual(Array.from(b.mask), [1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(b.ids.slice(0, 5)), [BOS_ID, tok.idOf('a'), tok.idOf('red'), tok.idOf('circle'), EOS_ID]);
  assert.equal(b.ids[6], PAD_ID);
});

test('unknown words: a clear error listing the vocabulary, or <unk> on request', () => {
  const tok = captionTokenizer();
  assert.throws(
    () => tok.encode(['a magenta circle']),
    (e: Error) => e instanceof CrossflowError && e.message.includes('"magenta"') && e.message.includes('the vocabulary is:') && e.message.includes(' purple ') && e.message.includes(" unknown: 'unk'"),
  );
  const b = tok.encode(['a magenta circle'], { unknown: 'unk' });
  assert.equal(b.ids[2], UNK_ID);
  assert.throws(() => tok.encode(['a red circle to the left of a blue square and a green triangle above a blue circle'], { maxTokens: 16 }), /at most maxTokens = 16/);
});
