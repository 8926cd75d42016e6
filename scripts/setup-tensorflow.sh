#!/usr/bin/env bash
# Optional set-up stage: the real TensorFlow runtime behind @tensorflow/tfjs-node, built from
# TensorFlow's own Python wheel instead of tfjs-node's install script (which downloads libtensorflow
# from a host many machines cannot reach).
#
#   bash scripts/setup-tensorflow.sh          # CPU: tensorflow-cpu wheel -> .cache/tensorflow/cpu
#   bash scripts/setup-tensorflow.sh --gpu    # CUDA 12: tensorflow wheel + NVIDIA's CUDA 12 wheels -> .cache/tensorflow/gpu
#
# Environment: CROSSFLOW_GPU=1 is --gpu; CROSSFLOW_NO_TENSORFLOW=1 skips this stage;
# CROSSFLOW_TF_VERSION picks the wheel's version (default 2.21.0, the one tested);
# CROSSFLOW_PIP_PYTHON names the Python whose pip is used (default: python3 on PATH, then /usr/bin/python3).
#
# Steps: pip download the wheel (pip as the machine is configured), take the C library and the C API
# headers out of it, `npm install --ignore-scripts` @tensorflow/tfjs-node (its install script never
# runs) into a folder of its own, delete that folder's copies of the other @tensorflow packages (so the
# addon loads the project's own tfjs and there is ONE tfjs-core), compile the addon with node-gyp, load it
# once, and write a stamp. A second run reads the stamp and returns. It never fails the set-up: a step
# that cannot be done prints one line and the project runs on the `native` backend; the full output is
# in .cache/tensorflow/setup-<variant>.log. Where it cannot be had, that is remembered (a second run
# says so in a line and does not try again) until the .unavailable file named in that line is removed.
# Built in a temporary folder and moved in place at the end, so a failed rebuild leaves a working one.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
log() { printf '[setup] %s\n' "$*" >&2; }

variant=cpu
for arg in "$@"; do
  case "$arg" in
    --gpu) variant=gpu ;;
    *) log "setup-tensorflow.sh: unknown argument '$arg' (allowed: --gpu)"; exit 2 ;;
  esac
done
[ "${CROSSFLOW_GPU:-}" = 1 ] && variant=gpu
if [ -n "${CROSSFLOW_NO_TENSORFLOW:-}" ]; then
  log "tensorflow backend: skipped (CROSSFLOW_NO_TENSORFLOW is set); the native backend runs"
  exit 0
fi

TF_VERSION="${CROSSFLOW_TF_VERSION:-2.21.0}"
if [ "$variant" = gpu ]; then WHEEL=tensorflow; PKG=@tensorflow/tfjs-node-gpu; else WHEEL=tensorflow-cpu; PKG=@tensorflow/tfjs-node; fi
BASE="$ROOT/.cache/tensorflow"
DEST="$BASE/$variant"
LOGFILE="$BASE/setup-$variant.log"
# The addon must match the project's tfjs and this Node's ABI: both are part of the stamp.
read -r TFJS_VERSION NODE_ABI < <(node -e 'process.stdout.write(require("./package.json").dependencies["@tensorflow/tfjs"] + " " + process.versions.modules + "\n")')
KEY="$WHEEL==$TF_VERSION $PKG@$TFJS_VERSION node-abi-$NODE_ABI"
UNAVAILABLE="$BASE/$variant-$TF_VERSION.unavailable"

if [ -f "$DEST/stamp" ] && [ "$(cat "$DEST/stamp")" = "$KEY" ]; then
  log "tensorflow backend: present ($PKG $TFJS_VERSION on $WHEEL $TF_VERSION, .cache/tensorflow/$variant)"
  exit 0
fi
if [ -f "$UNAVAILABLE" ] && [ "$(head -n1 "$UNAVAILABLE")" = "$KEY" ]; then
  log "tensorflow backend: not installed ($(sed -n 2p "$UNAVAILABLE")); the native backend runs (rm ${UNAVAILABLE#"$ROOT/"} to try again)"
  exit 0
fi

mkdir -p "$BASE"
: > "$LOGFILE"
WORK="$(mktemp -d "$BASE/.build-$variant-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
started=$SECONDS

# give_up REASON [remember]: one line, and with `remember` a note so that later runs do not retry.
give_up() {
  if [ "${2:-}" = remember ]; then printf '%s\n%s\n' "$KEY" "$1" > "$UNAVAILABLE"; fi
  log "tensorflow backend: not installed ($1); the native backend runs (details: ${LOGFILE#"$ROOT/"})"
  exit 0
}
run() { "$@" >> "$LOGFILE" 2>&1; }

# --- tools -----------------------------------------------------------------------------
PY=""
for cand in ${CROSSFLOW_PIP_PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -m pip --version >/dev/null 2>&1; then PY="$cand"; break; fi
done
[ -n "$PY" ] || give_up "no Python with pip to fetch the $WHEEL wheel" remember
command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || give_up "no C++ compiler to build the addon: install build-essential (or g++ and make)"
NODE_GYP="${npm_config_node_gyp:-}"
if [ -z "$NODE_GYP" ] || [ ! -f "$NODE_GYP" ]; then
  NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
fi
[ -f "$NODE_GYP" ] || give_up "npm's node-gyp was not found"
# Node's own headers when they are installed (Debian's nodejs, nvm, the official tarball), so that
# node-gyp does not download them.
nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
gyp_nodedir=()
[ -f "$nodedir/include/node/node_api.h" ] && gyp_nodedir=(--nodedir="$nodedir")

if [ "$variant" = gpu ]; then
  command -v nvidia-smi >/dev/null 2>&1 || give_up "--gpu: no NVIDIA driver here (nvidia-smi not found)"
  cuda="$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\)\..*/\1/p' | head -n1)"
  [ -n "$cuda" ] && [ "$cuda" -ge 12 ] || give_up "--gpu: the NVIDIA driver does not run CUDA 12 (nvidia-smi reports CUDA '${cuda:-?}')"
fi

# --- 1. TensorFlow's C library and C API headers, from the wheel -----------------------------
run "$PY" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -d "$WORK/wheel" "$WHEEL==$TF_VERSION" \
  || give_up "pip cannot get $WHEEL==$TF_VERSION: $(grep -m1 -E 'ERROR' "$LOGFILE" | cut -c1-120)" remember
whl="$(ls "$WORK"/wheel/*.whl 2>/dev/null | head -n1)"
[ -n "$whl" ] || give_up "pip reported success but left no wheel"
log "tensorflow backend: building $PKG $TFJS_VERSION on the $WHEEL $TF_VERSION wheel (about a minute; log: ${LOGFILE#"$ROOT/"})"

# GPU: the wheel installed with NVIDIA's CUDA 12 wheels beside it (site-packages layout), inside the
# folder that becomes .cache/tensorflow/gpu, so the addon's relative links hold before and after the move.
SITE="$WORK/pkg/site"
if [ "$variant" = gpu ]; then
  # The CUDA 12 wheels TensorFlow itself names in its `and-cuda` extra.
  mapfile -t cuda_reqs < <("$PY" - "$whl" <<'PYEOF'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
for line in z.read(meta).decode().splitlines():
    m = re.match(r'Requires-Dist: (nvidia-[^;]+); extra == "and-cuda"', line)
    if m: print(m.group(1).replace(' ', ''))
PYEOF
  )
  [ "${#cuda_reqs[@]}" -gt 0 ] || give_up "the $WHEEL wheel names no CUDA wheels (and-cuda extra)"
  run "$PY" -m pip install --no-deps --disable-pip-version-check --target "$SITE" "$whl" "${cuda_reqs[@]}" \
    || give_up "pip cannot install NVIDIA's CUDA 12 wheels (${cuda_reqs[*]}): $(grep -m1 ERROR "$LOGFILE" | cut -c1-120)" remember
  TFDIR="$SITE/tensorflow"
else
  TFDIR="$WORK/tf"
  # Only what the addon needs: the two libraries and the C API headers (not the Python package).
  run "$PY" - "$whl" "$TFDIR" <<'PYEOF' || give_up "the $WHEEL wheel could not be unpacked"
import os, shutil, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
headers = tuple('tensorflow/include/' + p for p in ('tensorflow/c/', 'tensorflow/core/platform/', 'tsl/platform/', 'xla/tsl/c/', 'xla/tsl/platform/'))
found = set()
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n.endswith('/') or not (n in libs or n.startswith(headers)):
            continue
        dst = os.path.join(out, n[len('tensorflow/'):])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with z.open(n) as src, open(dst, 'wb') as f:
            shutil.copyfileobj(src, f, 1 << 20)
        found.add(n)
missing = sorted(libs - found) + [h for h in ['tensorflow/include/tensorflow/c/eager/c_api.h'] if h not in found]
if missing:
    sys.exit('missing from the wheel: %s' % ', '.join(missing))
PYEOF
fi
rm -rf "$WORK/wheel"
[ -f "$TFDIR/libtensorflow_cc.so.2" ] || give_up "the $WHEEL wheel has no libtensorflow_cc.so.2 (the C API library)" remember
# The addon links -ltensorflow -ltensorflow_framework; in the wheel the C API lives in libtensorflow_cc.
ln -sf libtensorflow_cc.so.2 "$TFDIR/libtensorflow.so.2"
ln -sf libtensorflow.so.2 "$TFDIR/libtensorflow.so"
ln -sf libtensorflow_framework.so.2 "$TFDIR/libtensorflow_framework.so"

# --- 2. tfjs-node's sources and runtime dependencies, without its install script -------------
mkdir -p "$WORK/pkg"
printf '{"private": true, "description": "built by scripts/setup-tensorflow.sh", "dependencies": {"%s": "%s"}}\n' "$PKG" "$TFJS_VERSION" > "$WORK/pkg/package.json"
(cd "$WORK/pkg" && run npm install --ignore-scripts --no-audit --no-fund --loglevel=error) \
  || give_up "npm could not install $PKG@$TFJS_VERSION --ignore-scripts"
# One tfjs: the addon must resolve @tensorflow/tfjs(-core) to the project's node_modules.
for d in "$WORK"/pkg/node_modules/@tensorflow/*; do
  [ "$d" = "$WORK/pkg/node_modules/$PKG" ] || rm -rf "$d"
done
P="$WORK/pkg/node_modules/$PKG"

# --- 3. compile the addon against the wheel's library ------------------------------------------
mkdir -p "$P/deps"
if [ "$variant" = gpu ]; then
  # deps/lib is the wheel's own tensorflow/ folder (a relative link), so the library's $ORIGIN/../nvidia
  # paths reach NVIDIA's wheels; the CUDA libraries are also linked into the addon (rpath + DT_NEEDED),
  # so they are loaded before TensorFlow looks for them whatever its own search paths are.
  cp -r "$TFDIR/include" "$P/deps/include"
  ln -s ../../../../site/tensorflow "$P/deps/lib"
  ldflags="-Wl,--no-as-needed"
  for lib in cuda_runtime/lib/libcudart.so.12 cublas/lib/libcublasLt.so.12 cublas/lib/libcublas.so.12 cufft/lib/libcufft.so.11 \
             curand/lib/libcurand.so.10 nvjitlink/lib/libnvJitLink.so.12 cusparse/lib/libcusparse.so.12 cusolver/lib/libcusolver.so.11 cudnn/lib/libcudnn.so.9; do
    [ -f "$SITE/nvidia/$lib" ] || continue
    ldflags+=" -Wl,-rpath,\\\$\$ORIGIN/../../deps/lib/../nvidia/$(dirname "$lib") -L$SITE/nvidia/$(dirname "$lib") -l:$(basename "$lib")"
  done
  export LDFLAGS="$ldflags"
else
  mkdir -p "$P/deps/lib"
  mv "$TFDIR/include" "$P/deps/include"
  mv "$TFDIR"/libtensorflow* "$P/deps/lib/"
fi
# napi-v8: the highest N-API version tfjs-node 4.22 lists (package.json "binary"), which
# node-pre-gyp's find() then looks for under lib/napi-v8 at load time.
(cd "$P" && run node "$NODE_GYP" rebuild "${gyp_nodedir[@]}" --module_name=tfjs_binding --module_path="$P/lib/napi-v8" \
  --napi_build_version=8 -j "$(nproc 2>/dev/null || echo 2)") || give_up "node-gyp could not compile $PKG's addon against $WHEEL $TF_VERSION"
rm -rf "$P/build"

# --- 4. load it once beside the project's tfjs, then put it in place ---------------------------
rm -rf "$DEST.old"
[ -d "$DEST" ] && mv "$DEST" "$DEST.old"
mv "$WORK/pkg" "$DEST"
check='
process.env.TF_CPP_MIN_LOG_LEVEL = "2";
const [root, pkgDir, variant] = process.argv.slice(1);
const tf = require(root + "/node_modules/@tensorflow/tfjs");
const core = require.resolve("@tensorflow/tfjs-core", { paths: [root] });
if (require.resolve("@tensorflow/tfjs-core", { paths: [pkgDir] }) !== core) throw new Error("a second tfjs-core");
require(pkgDir);
if (tf.getBackend() !== "tensorflow") throw new Error("backend " + tf.getBackend());
const v = Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 2], [3, 4]])).dataSync());
if (v.join() !== "7,10,15,22") throw new Error("matMul gave " + v);
if (variant === "gpu" && !tf.backend().isUsingGpuDevice) throw new Error("TensorFlow sees no CUDA device");
'
if ! run node -e "$check" "$ROOT" "$DEST/node_modules/$PKG" "$variant"; then
  rm -rf "$DEST"
  [ -d "$DEST.old" ] && mv "$DEST.old" "$DEST"
  give_up "the built addon does not load: $(grep -m1 -E 'Error' "$LOGFILE" | cut -c1-160)"
fi
rm -rf "$DEST.old"
seconds=$((SECONDS - started))
printf '{"variant": "%s", "wheel": "%s==%s", "package": "%s@%s", "node_abi": "%s", "build_seconds": %d, "built_at": "%s"}\n' \
  "$variant" "$WHEEL" "$TF_VERSION" "$PKG" "$TFJS_VERSION" "$NODE_ABI" "$seconds" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$DEST/build.json"
echo "$KEY" > "$DEST/stamp"
rm -f "$UNAVAILABLE"
log "tensorflow backend: built $PKG $TFJS_VERSION on $WHEEL $TF_VERSION in ${seconds} s (.cache/tensorflow/$variant)"
