// The ablation notebooks also execute in the default profile, where they only read the committed
// results/ablations/ (no training): a researcher opening one sees the numbers in seconds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeFailure, listNotebooks, runNotebook } from '../../lib/notebooks/runner';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-ablation-notebooks-'));
after(() => fs.rmSync(outDir, { recursive: true, force: true }));

const ablations = listNotebooks().filter((n) => /^1[0-4]_ablation_/.test(n));

test('there are five ablation notebooks, one per block of Table 3', () => {
  assert.deepEqual(ablations, ['10_ablation_encoder', '11_ablation_enc_loss', '12_ablation_guidance', '13_ablation_text_encoder', '14_ablation_training']);
});

for (const name of ablations) {
  test(`notebook ${name} renders the committed results (default profile)`, async () => {
    const result = await runNotebook(name, { profile: 'small', outDir });
    assert.ok(result.ok, describeFailure(result));
    const html = fs.readFileSync(result.html!, 'utf8');
    assert.match(html, /Ours beside the paper/);
    assert.ok(!/step \d+\/\d+ loss/.test(html), 'the default profile trains nothing');
  });
}
