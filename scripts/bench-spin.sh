#!/usr/bin/env bash
# How much the BLAS worker threads spin: sched_yield calls (strace) and user/system CPU seconds of 20 ref-dit
# steps on `native`, for the tree at BASE and for this checkout, one after the other.
#   bash scripts/bench-spin.sh BASE
# Needs strace. Writes results/bench/spin.json and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?usage: bench-spin.sh BASE_COMMIT}"
command -v strace >/dev/null || { echo "strace is missing (apt-get install strace)" >&2; exit 1; }
head="$(git rev-parse --short HEAD)"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$base" >/dev/null 2>&1
ln -s "$PWD/node_modules" "$work/base/node_modules"
for who in base head; do
  dir="$PWD"; [ "$who" = base ] && dir="$work/base"
  (cd "$dir" && strace -f -c -e trace=sched_yield -o "$work/strace-$who.txt" \
    /usr/bin/time -o "$work/time-$who.txt" -f '%U %S %e' node bin/crossflow.js bench ref-dit --backend native --steps 20 --json > "$work/refdit-$who.json" 2>/dev/null)
done
node - "$work" "$base" "$head" > results/bench/spin.json <<'JS'
const fs = require('fs');
const [work, base, head] = process.argv.slice(2);
const side = (who) => {
  const calls = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)/m.exec(fs.readFileSync(`${work}/strace-${who}.txt`, 'utf8').split('\n').find((l) => l.includes('sched_yield')) ?? '');
  const [user, sys, wall] = fs.readFileSync(`${work}/time-${who}.txt`, 'utf8').trim().split(/\s+/).map(Number);
  const r = JSON.parse(fs.readFileSync(`${work}/refdit-${who}.json`, 'utf8'));
  return { sched_yield_calls: calls ? Number(calls[1]) : 0, user_seconds: user, system_seconds: sys, wall_seconds: wall, step_ms_median_under_strace: r.step_ms_median };
};
const out = { command: `bash scripts/bench-spin.sh ${base}`, workload: 'ref-dit, 20 steps on native, under strace -f -c', base, head, before: side('base'), after: side('head'), measured_at: new Date().toISOString() };
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
JS
cat results/bench/spin.json
