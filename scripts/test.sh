#!/usr/bin/env bash
# Runs every test file under test/ with node's built-in runner (TypeScript through tsx).
# Extra arguments are passed to node (e.g. --test-name-pattern=fid).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
mapfile -t files < <(find test -name '*.test.ts' | sort)
node_modules/.bin/tsc --noEmit -p .
exec node --import tsx --test --test-concurrency=1 "$@" "${files[@]}"
