#!/usr/bin/env bash
# The ref-dit step split into its matrix products and the rest, ours against PyTorch's, in one sitting:
# each round runs `crossflow bench gemms` (our step, its sgemm calls inside it and each shape alone), then
# scripts/torch_gemms.py (PyTorch's step through the leads' reference script, its products profiled inside
# the step, and the same shapes alone). Writes results/bench/gemm-floor.json and gemm-floor.md.
#   bash scripts/bench-gemm-floor.sh [rounds=3]
#   env: CROSSFLOW_TORCH_PYTHON (a python with torch: results/bench/README.md), CROSSFLOW_TORCH_REFERENCE
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
py="${CROSSFLOW_TORCH_PYTHON:?set CROSSFLOW_TORCH_PYTHON to a python with torch (results/bench/README.md)}"
ref="${CROSSFLOW_TORCH_REFERENCE:?set CROSSFLOW_TORCH_REFERENCE to the reference script torch_reference.py}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  node bin/crossflow.js bench gemms --backend native --json 2>/dev/null | tail -1 > "$work/ours.json"
  sed 's/^/ours /' "$work/ours.json" >> "$work/rounds.txt"
  "$py" scripts/torch_gemms.py "$ref" "$work/ours.json" --threads 2 2>/dev/null | tail -1 | sed 's/^/torch /' >> "$work/rounds.txt"
done
node --import tsx scripts/gemm-floor-report.ts "$work/rounds.txt" "bash scripts/bench-gemm-floor.sh $rounds"
