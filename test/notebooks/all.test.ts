// Every notebook in notebooks/ executes in the smoke profile (one subtest each), so notebooks
// added later are covered by `npm test` without touching this file. Executed copies and HTML go
// to a temporary folder; `npx crossflow notebooks` writes the kept ones to results/notebooks/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeFailure, listNotebooks, runNotebook } from '../../lib/notebooks/runner';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-notebooks-'));
after(() => fs.rmSync(outDir, { recursive: true, force: true }));

for (const name of listNotebooks()) {
  test(`notebook ${name} runs in the smoke profile`, async () => {
    const result = await runNotebook(name, { profile: 'smoke', outDir });
    assert.ok(result.ok, describeFailure(result));
    const html = fs.readFileSync(result.html!, 'utf8');
    assert.ok(!html.includes('UnhandledPromiseRejection'), 'no rejection printed anywhere');
  });
}
