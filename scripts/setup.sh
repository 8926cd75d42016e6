#!/usr/bin/env bash
# Idempotent set-up: system packages, npm packages, the tslab Jupyter kernel, and (optional) the
# TensorFlow runtime for the `tfjs-node` backend (scripts/setup-tensorflow.sh; --gpu: tfjs-node-gpu).
# Each stage checks first and skips work already done, so a second run takes seconds.
# Where apt-get cannot be used (macOS, a non-root account, CROSSFLOW_NO_APT=1) it prints what
# is missing and how to install it, and stops; it goes on once those are present.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
log() { printf '[setup] %s\n' "$*" >&2; }

PYTHON="${CROSSFLOW_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

# --- 1. System packages ------------------------------------------------------------
# Each check is a capability the project needs, mapped to the Debian package(s) giving it.
declare -a missing=()
need() { missing+=("$@"); }

"$PYTHON" -c 'import nbconvert, nbclient, ipykernel, jupyter_client, jupyter_core' 2>/dev/null \
  || need python3-nbconvert jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core
command -v jupyter >/dev/null 2>&1 || need jupyter-core
# canvas compiles from source when its prebuilt binary cannot be fetched.
if ! node -e "require('$ROOT/node_modules/canvas')" 2>/dev/null; then
  command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || need build-essential
  command -v pkg-config >/dev/null 2>&1 || need pkg-config
  if command -v pkg-config >/dev/null 2>&1; then
    pkg-config --exists cairo || need libcairo2-dev
    pkg-config --exists pangocairo || need libpango1.0-dev
    pkg-config --exists libjpeg || need libjpeg-dev
    pkg-config --exists librsvg-2.0 || need librsvg2-dev
    [ -f /usr/include/gif_lib.h ] || need libgif-dev
  else
    need libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev
  fi
fi
# OpenBLAS behind the `native` backend (nblas links -lblas).
# (the library list is read into a variable first: `ldconfig -p | grep -q` under pipefail fails
# whenever grep exits early and ldconfig gets SIGPIPE)
libs="$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)"
case "$libs" in *libopenblas*) ;; *) need libopenblas-dev ;; esac
case "$libs" in *"libblas.so "*) ;; *) need libopenblas-dev ;; esac
# Headless Chromium renders plotly figures to SVG/PNG/PDF.
CHROMIUM="${CROSSFLOW_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || need chromium

# Optional: Slurm and munge, for the cluster executor's tests (test/experiments/slurm.test.ts starts a
# single-node cluster of them at 127.0.0.1 in a network namespace of its own, made with iproute2's `ip netns`).
# Installed with the rest where apt-get is allowed; elsewhere those tests skip, saying why, and set-up goes on.
declare -a optional=()
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
has slurmctld || optional+=(slurmctld)
has slurmd || optional+=(slurmd)
has sbatch && has squeue && has sinfo && has scancel || optional+=(slurm-client)
has munged || optional+=(munge)
has ip && has ss || optional+=(iproute2)

# CROSSFLOW_NO_APT=1 never calls apt-get (shared machines; also how the tests see this branch).
apt_allowed() { [ -z "${CROSSFLOW_NO_APT:-}" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }
apt_updated=""
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if apt_allowed; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt_updated=1
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing system packages: ${missing[*]}"
    log "  Debian/Ubuntu: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    log "  macOS (Homebrew): brew install pkg-config cairo pango libpng jpeg giflib librsvg openblas; pip3 install nbconvert nbclient ipykernel; install Chromium and set CROSSFLOW_CHROMIUM to its binary"
    log "  then run this command again."
    exit 1
  fi
else
  log "system packages: present"
fi
if [ "${#optional[@]}" -gt 0 ]; then
  if apt_allowed; then
    log "installing optional Debian packages (a Slurm for the cluster executor's tests): ${optional[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A failure here costs only the Slurm tests (they skip), not the set-up.
    { [ -n "$apt_updated" ] || apt-get update -qq; } && apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null \
      || log "could not install ${optional[*]}: the Slurm executor's tests will skip"
  else
    log "optional packages missing: ${optional[*]} (without them the Slurm executor's tests skip)"
    log "  Debian/Ubuntu: sudo apt-get install -y --no-install-recommends ${optional[*]}"
  fi
fi

# --- 2. npm packages -----------------------------------------------------------------
# Re-install only when package-lock.json or the Node version changed since the last install.
stamp_file=node_modules/.crossflow-install-stamp
want_stamp="$(node -p 'process.version')-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want_stamp" ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_stamp" > "$stamp_file"
else
  log "npm packages: present"
fi

# --- 3. The tslab kernel -------------------------------------------------------------
kernels="$("$PYTHON" -m jupyter kernelspec list 2>/dev/null || true)"
if ! grep -qw tslab <<<"$kernels"; then
  log "registering the tslab kernel for $PYTHON"
  node_modules/.bin/tslab install --python="$PYTHON" >/dev/null
else
  log "tslab kernel: registered"
fi

# --- 4. The native backend's fused kernels (a C addon of ours, lib/backend/native/addon) -----------
# Rebuilt when its sources, Node or the CPU change (it is compiled for this CPU: -march=native).
# Never stops the set-up: without it the native backend composes the same layers from tf ops.
addon_dir=lib/backend/native/addon
addon_stamp="$addon_dir/build/.crossflow-stamp"
addon_want="$(node -p 'process.version')-$(cat "$addon_dir/kernels.c" "$addon_dir/binding.gyp" | sha256sum | cut -c1-16)-$( { grep -m1 'model name' /proc/cpuinfo 2>/dev/null || uname -m; } | sha256sum | cut -c1-8)"
if [ -f "$addon_dir/build/Release/crossflow_kernels.node" ] && [ "$(cat "$addon_stamp" 2>/dev/null)" = "$addon_want" ]; then
  log "fused kernels: built"
else
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  gyp_nodedir=()
  [ -f "$nodedir/include/node/node_api.h" ] && gyp_nodedir=(--nodedir="$nodedir") # no header download
  if [ -f "$node_gyp" ] && (cd "$addon_dir" && node "$node_gyp" rebuild "${gyp_nodedir[@]}" -j "$(nproc 2>/dev/null || echo 2)" > build.log 2>&1); then
    echo "$addon_want" > "$addon_stamp"
    rm -f "$addon_dir/build.log"
    log "fused kernels: built ($addon_dir/build/Release/crossflow_kernels.node)"
  else
    log "fused kernels: could not build the addon ($addon_dir/build.log); the native backend runs without them"
  fi
fi

# --- 5. Optional: the real TensorFlow runtime (tfjs-node built from TensorFlow's wheel) ----------
# Never stops the set-up: where it cannot be built it says why in one line and `native` runs.
# `bash scripts/setup.sh --gpu` (or CROSSFLOW_GPU=1) builds tfjs-node-gpu for CUDA 12 instead.
bash scripts/setup-tensorflow.sh "$@" || log "tensorflow backend: set-up step failed; the native backend runs"
