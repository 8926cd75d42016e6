#!/usr/bin/env bash
# Before/after speed in one sitting: the ref-dit step, the quickstart (`small` + recipe) training step and
# sampling (images/s with and without guidance), for the tree at BASE and for this checkout, interleaved
# round by round so the ratios hold on a noisy machine; with PyTorch's ref-dit step (1 and 2 threads)
# beside them when a Python with torch and the reference script are given.
#   bash scripts/bench-compare.sh BASE [rounds=3] [name=compare]
#   env: CROSSFLOW_TORCH_PYTHON (a python with torch), CROSSFLOW_TORCH_REFERENCE (torch_reference.py)
# The BASE tree gets this checkout's benchmark harness (lib/bench/, lib/cli/commands/bench.ts, and the modules
# it imports that older trees lack or have older: lib/cli/parse.ts, lib/sampling/speed.ts) so both
# sides time the same workloads. Writes results/bench/NAME.json and, from it, NAME.md; prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?usage: bench-compare.sh BASE_COMMIT [rounds]}"
rounds="${2:-3}"
name="${3:-compare}"
case "$name" in *[!a-z0-9-]*|'') echo "name: '$name'; allowed: lower-case letters, digits and '-'" >&2; exit 2;; esac
head="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- lib scripts || echo '+changes')"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$base" >/dev/null 2>&1
ln -s "$PWD/node_modules" "$work/base/node_modules"
cp -r datasets/autoencoders/. "$work/base/datasets/autoencoders/"
cp lib/bench/*.ts "$work/base/lib/bench/"
cp lib/cli/commands/bench.ts "$work/base/lib/cli/commands/bench.ts"
cp lib/cli/parse.ts "$work/base/lib/cli/parse.ts"
cp lib/sampling/speed.ts "$work/base/lib/sampling/speed.ts"
mkdir -p "$work/base/.cache" && [ -d .cache/tensorflow ] && ln -s "$PWD/.cache/tensorflow" "$work/base/.cache/tensorflow"
# A base that has the fused-kernel addon gets it built, as its set-up would (else it would run without it).
if [ -f "$work/base/lib/backend/native/addon/binding.gyp" ]; then
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  (cd "$work/base/lib/backend/native/addon" && node "$node_gyp" rebuild --nodedir="$nodedir" > /dev/null 2>&1) \
    || { echo "could not build the base's addon" >&2; exit 1; }
fi
runs="$work/runs.txt"
measure() { # who dir
  local who="$1" dir="$2"
  (cd "$dir" && node bin/crossflow.js bench ref-dit --backend native --steps 12 --json 2>/dev/null | tail -1 | sed "s/^/$who ref-dit /") >> "$runs"
  (cd "$dir" && node bin/crossflow.js bench presets --presets small+quickstart --backend native --steps 8 --json 2>/dev/null | tail -1 | sed "s/^/$who quickstart-step /") >> "$runs"
  (cd "$dir" && node bin/crossflow.js bench sampling --backend native --images 128 --json 2>/dev/null | tail -1 | sed "s/^/$who sampling /") >> "$runs"
}
torch_py="${CROSSFLOW_TORCH_PYTHON:-}"
torch_ref="${CROSSFLOW_TORCH_REFERENCE:-}"
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  measure base "$work/base"
  measure head "$PWD"
  if [ -n "$torch_py" ] && [ -n "$torch_ref" ]; then
    for th in 1 2; do "$torch_py" "$torch_ref" --threads "$th" | tail -1 | sed "s/^/torch$th ref-dit /" >> "$runs"; done
  fi
done
torch_version="$([ -n "$torch_py" ] && "$torch_py" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo none)"
mkdir -p results/bench
node - "$runs" "$base" "$head" "$rounds" "$torch_version" "$name" > "results/bench/$name.json" <<'JS'
const fs = require('fs');
const [runsFile, base, head, rounds, torchVersion, name] = process.argv.slice(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const rows = fs.readFileSync(runsFile, 'utf8').trim().split('\n').map((l) => {
  const [who, what, ...rest] = l.split(' ');
  return { who, what, r: JSON.parse(rest.join(' ')) };
});
const figure = (who, what, f) => rows.filter((x) => x.who === who && x.what === what).map((x) => f(x.r));
const stepMs = (r) => r.step_ms_median;
const quickMs = (r) => r.rows[0].ms.native;
const guided = (r) => r.runs[0].guided.images_per_second;
const unguided = (r) => r.runs[0].unguided.images_per_second;
const summary = (name, f, what, higherIsBetter) => {
  const b = figure('base', what, f); const h = figure('head', what, f);
  const speedup = higherIsBetter ? median(h) / median(b) : median(b) / median(h);
  return { [name]: { base_per_round: b, head_per_round: h, base_median: median(b), head_median: median(h), speedup: Math.round(speedup * 1000) / 1000 } };
};
const out = {
  command: `bash scripts/bench-compare.sh ${base} ${rounds}${name === 'compare' ? '' : ` ${name}`}`,
  base, head, rounds: Number(rounds), backend: 'native',
  ...summary('ref_dit_step_ms', stepMs, 'ref-dit', false),
  ...summary('quickstart_step_ms', quickMs, 'quickstart-step', false),
  ...summary('sampling_guided_images_per_s', guided, 'sampling', true),
  ...summary('sampling_unguided_images_per_s', unguided, 'sampling', true),
};
const t1 = figure('torch1', 'ref-dit', stepMs); const t2 = figure('torch2', 'ref-dit', stepMs);
if (t1.length) {
  const best = Math.min(median(t1), median(t2));
  out.torch = { version: torchVersion, threads1_step_ms: t1, threads2_step_ms: t2, best_threads: median(t1) <= median(t2) ? 1 : 2, best_median_ms: best };
  out.ref_dit_ratio_to_torch_best = { base: Math.round((out.ref_dit_step_ms.base_median / best) * 1000) / 1000, head: Math.round((out.ref_dit_step_ms.head_median / best) * 1000) / 1000 };
}
out.measured_at = new Date().toISOString();
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
JS
node - "$name" <<'JS' > "results/bench/$name.md"
const name = process.argv[2];
const r = require(`./results/bench/${name}.json`);
const f = (x, d = 1) => x.toFixed(d);
const row = (what, unit, k) => `| ${what} | ${unit} | ${f(r[k].base_median)} | ${f(r[k].head_median)} | ${f(r[k].speedup, 2)}x |`;
const lines = [
  '# Before and after, one sitting',
  '',
  `Generated by \`${r.command}\` (${r.measured_at}); do not edit. Base ${r.base}, head ${r.head}, backend ${r.backend}; medians over ${r.rounds} interleaved rounds (every round's figure is in ${name}.json).`,
  '',
  '| workload | unit | base | head | speed-up |',
  '|---|---|---|---|---|',
  row('ref-dit training step (batch 32)', 'ms', 'ref_dit_step_ms'),
  row('quickstart training step (`small` + recipe, batch 64)', 'ms', 'quickstart_step_ms'),
  row('sampling with guidance (autoguidance, w = 3, 50 Euler steps)', 'images/s', 'sampling_guided_images_per_s'),
  row('sampling without guidance (50 Euler steps)', 'images/s', 'sampling_unguided_images_per_s'),
];
if (r.torch) {
  lines.push('', `PyTorch ${r.torch.version}, the same ref-dit step: ${f(r.torch.best_median_ms)} ms with ${r.torch.best_threads} thread(s), its faster setting. Ours over PyTorch's: base ${f(r.ref_dit_ratio_to_torch_best.base, 3)}, head ${f(r.ref_dit_ratio_to_torch_best.head, 3)}.`);
}
process.stdout.write(lines.join('\n') + '\n');
JS
cat "results/bench/$name.md"
