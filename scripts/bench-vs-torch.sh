#!/usr/bin/env bash
# The ref-dit step, ours and PyTorch's, measured in one sitting and interleaved, so the ratio means
# something on a noisy machine. PyTorch is not a dependency: pass the reference script's path (the
# project leads keep it) and a Python with torch (CROSSFLOW_TORCH_PYTHON; default /usr/bin/python3, where
# Debian's python3-torch 1.13 runs it; results/bench/README.md says how to make a PyTorch 2.13 venv).
#   bash scripts/bench-vs-torch.sh [--if-available] [/path/to/torch_reference.py] [rounds=3]
#   (the path may come from CROSSFLOW_TORCH_REFERENCE instead; --if-available: without torch or the
#   reference, say so in one line and exit 0, as `npm run bench` does)
# Writes results/bench/ref-dit-vs-torch.json (every run, medians, ratio) and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
optional=""
[ "${1:-}" = "--if-available" ] && { optional=1; shift; }
ref="${1:-${CROSSFLOW_TORCH_REFERENCE:-}}"
rounds="${2:-3}"
py="${CROSSFLOW_TORCH_PYTHON:-${CROSSFLOW_PYTHON:-/usr/bin/python3}}"
skip() { if [ -n "$optional" ]; then echo "[bench] PyTorch comparison skipped: $1" >&2; exit 0; else echo "$1" >&2; exit 1; fi; }
[ -n "$ref" ] && [ -f "$ref" ] || skip "no reference script (pass its path or set CROSSFLOW_TORCH_REFERENCE)"
"$py" -c 'import torch' 2>/dev/null || skip "PyTorch missing for $py (set CROSSFLOW_TORCH_PYTHON; results/bench/README.md)"
out=results/bench/ref-dit-vs-torch.json
mkdir -p results/bench
runs=$(mktemp)
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  node bin/crossflow.js bench ref-dit --json | tail -1 | sed 's/^/ours /' >> "$runs"
  for th in 1 2; do "$py" "$ref" --threads "$th" | tail -1 | sed "s/^/torch$th /" >> "$runs"; done
done
node - "$runs" "$out" <<'JS'
const fs = require('fs');
const [runsFile, outFile] = process.argv.slice(2);
const rows = fs.readFileSync(runsFile, 'utf8').trim().split('\n').map((l) => {
  const i = l.indexOf(' ');
  return { who: l.slice(0, i), r: JSON.parse(l.slice(i + 1)) };
});
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pick = (who) => rows.filter((x) => x.who === who).map((x) => x.r.step_ms_median);
const ours = pick('ours'); const t1 = pick('torch1'); const t2 = pick('torch2');
const torchBest = Math.min(median(t1), median(t2));
const result = {
  workload: 'ref-dit', rounds: ours.length,
  ours_step_ms: { per_round: ours, median: median(ours), min: Math.min(...ours), max: Math.max(...ours) },
  torch_threads1_step_ms: { per_round: t1, median: median(t1) },
  torch_threads2_step_ms: { per_round: t2, median: median(t2) },
  torch_best_threads: median(t1) <= median(t2) ? 1 : 2,
  ratio_ours_to_torch_best: Math.round((median(ours) / torchBest) * 1000) / 1000,
  ours_backend: rows.find((x) => x.who === 'ours').r.backend,
  ours_achieved_gflops_median: median(rows.filter((x) => x.who === 'ours').map((x) => x.r.achieved_gflops)),
  sgemm_peak_gflops_median: median(rows.filter((x) => x.who === 'ours').map((x) => x.r.sgemm_peak_gflops)),
  torch_version: rows.find((x) => x.who === 'torch1').r.version,
  measured_at: new Date().toISOString(),
  command: 'CROSSFLOW_TORCH_PYTHON=<python with torch> bash scripts/bench-vs-torch.sh <torch_reference.py> ' + ours.length,
};
fs.writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result));
JS
rm -f "$runs"
