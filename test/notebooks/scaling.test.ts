// notebooks/30_scaling in the default profile only reads results/ablations/scaling (no training): with no
// results yet it says so and gives the command that makes them; with results it shows the Table 1 analogue.
// (Its smoke run, a tiny sweep, is test/notebooks/all.test.ts's.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoPath } from '../../lib/paths';
import { describeFailure, runNotebook } from '../../lib/notebooks/runner';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-scaling-notebook-'));
after(() => fs.rmSync(outDir, { recursive: true, force: true }));

test('notebook 30_scaling renders the committed results, or says there are none and how to make them (default profile)', async () => {
  const result = await runNotebook('30_scaling', { profile: 'small', outDir });
  assert.ok(result.ok, describeFailure(result));
  const html = fs.readFileSync(result.html!, 'utf8');
  assert.ok(!/step \d+\/\d+ loss/.test(html), 'the default profile trains nothing');
  assert.match(html, /The rows and what their parameter counts include/);
  assert.match(html, /4,911,424/, 'the parameter table is filled from the configs even before any run');
  const committed = fs.existsSync(repoPath('results', 'ablations', 'scaling')) && fs.readdirSync(repoPath('results', 'ablations', 'scaling')).length > 0;
  if (committed) assert.match(html, /Standard flow matching \(noise \+ cross-attention\) \(paper\)/);
  else assert.match(html, /no results yet; run npx crossflow ablate scaling --profile small --jobs 2/);
});
