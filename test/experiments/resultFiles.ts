// Shared by the sweep tests (local and Slurm executors): the result files of a results folder, and one
// file's content without what legitimately differs between two runs of the same command.
import * as fs from 'fs';
import * as path from 'path';

/** seed<k>.json and seed<k>-samples.png under `dir`, relative and sorted. */
export function resultFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/seed\d+(\.json|-samples\.png)$/.test(e.name)) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** A result file without its wall-clock fields (PNG files as they are). */
export function withoutTiming(file: string): string {
  if (file.endsWith('.png')) return fs.readFileSync(file).toString('base64');
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete r.timing;
  // Provenance, not result: the commit the code ran at changes if someone commits while the test runs.
  delete r.git_commit;
  return JSON.stringify(r, null, 2);
}
