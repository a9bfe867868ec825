#!/usr/bin/env bash
# Issue 11's GPU checks in one device call (benchmarks/gpu/README.md has the exact `run` call):
# carried wheels, pywfst built with CUDA for sm_90, the GPU tests (and the cuda-sim ones),
# compute-sanitizer memcheck on one small batch, then bench.py (pywfst vs riva). Each phase has
# its own time limit so a hang in one leaves time for the next; everything goes to $OUT
# (device.log, pytest.log, sanitizer.log, bench.log, results.json, results.md).
#
#   bash benchmarks/gpu/run_on_device.sh              # on the GPU machine (needs $OUT)
#   bash benchmarks/gpu/run_on_device.sh --dry-run    # here: the same steps on the CPU (cuda-sim,
#                                                     # a few utterances; riva's config checked)
# Needs benchmarks/gpu/work/device/ from prepare.py. BUDGET (seconds, default 420) bounds the
# whole script; PHASES (default "build tests sanitizer bench") picks phases for a rerun.
set -uo pipefail

DRY=0
[[ ${1:-} == --dry-run ]] && DRY=1
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
HERE=benchmarks/gpu
DATA=$HERE/work/device
WORK=$HERE/work
BUDGET=${BUDGET:-420}
PHASES=${PHASES:-"build tests sanitizer bench"}
PY=${PYTHON:-python3}
if [[ $DRY == 1 ]]; then
  OUT=${OUT:-$WORK/dry-run-out}
  [[ -x $WORK/venv312/bin/python ]] && PY=${PYTHON:-$WORK/venv312/bin/python}
fi
: "${OUT:?set OUT (the device tool sets it)}"
mkdir -p "$OUT"
LOG=$OUT/device.log
export PYTHONUNBUFFERED=1 CUDA_MODULE_LOADING=LAZY
T0=$SECONDS
FAILED=()

say() { echo "=== [$((SECONDS - T0)) s] $*" | tee -a "$LOG"; }
left() { echo $((BUDGET - (SECONDS - T0))); }
want() { [[ " $PHASES " == *" $1 "* ]]; }
step() {  # step NAME LIMIT_SECONDS LOGFILE COMMAND...: runs COMMAND under a time limit, logged
  local name=$1 limit=$2 file=$3 rc
  shift 3
  (( limit > $(left) )) && limit=$(left)
  if (( limit < 10 )); then
    say "$name: skipped, time budget spent"; FAILED+=("$name(skipped)"); return 1
  fi
  say "$name (limit ${limit} s): $*"
  timeout --kill-after=10 "$limit" "$@" >>"$file" 2>&1
  rc=$?
  say "$name: exit $rc"
  (( rc == 0 )) || FAILED+=("$name($rc)")
  return $rc
}

say "machine: $(uname -m), $(nproc) CPUs; $($PY -V 2>&1); dry run: $DRY"
[[ $DRY == 1 ]] || nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm \
  --format=csv >>"$LOG" 2>&1
if [[ ! -f $DATA/manifest.json ]]; then
  say "no $DATA/manifest.json: run benchmarks/gpu/prepare.py here first"; exit 2
fi

# Wheels the machine lacks (riva-asrlib-decoder), installed aside, as the device README says.
SITE=$WORK/site
rm -rf "$SITE"
step wheels 60 "$LOG" "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target "$SITE" "$DATA"/wheels/*.whl
export PYTHONPATH=$SITE

# pywfst with CUDA for sm_90 only: cmake + ninja straight into a build folder, then a staged copy
# of the package with the module beside it (the source checkout stays free of built files).
BUILD=$WORK/build-sm90
STAGE=$WORK/stage
GENERATOR=Ninja
command -v ninja >/dev/null || GENERATOR="Unix Makefiles"
if want build; then
  step configure 120 "$LOG" cmake -S . -B "$BUILD" -G "$GENERATOR" -DCMAKE_BUILD_TYPE=Release \
    -DPYWFST_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DPython_EXECUTABLE="$("$PY" -c 'import sys; print(sys.executable)')" \
    -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" &&
  step build 300 "$LOG" cmake --build "$BUILD" -j "$(nproc)" &&
  rm -rf "$STAGE" && mkdir -p "$STAGE" && cp -r pywfst "$STAGE"/ &&
  find "$STAGE" -name '_core*.so' -delete && cp "$BUILD"/csrc/_core*.so "$STAGE"/pywfst/ ||
  { say "build failed: the rest needs the module"; exit 1; }
fi
export PYTHONPATH=$STAGE:$HERE:$SITE
step import 60 "$LOG" "$PY" -P -c "import pywfst, pywfst._core as c; print(pywfst.__file__); \
print('cuda_unavailable_reason(0):', repr(c.cuda_unavailable_reason(0)))" || exit 1

if [[ $DRY == 1 ]]; then DEVICE=cuda-sim; else DEVICE=cuda:0; fi

if want tests; then
  # tests/conftest.py imports pywrapfst (not here): --noconftest, and graph_cache.py replays the
  # char_setup fixture and the graphs prepare.py recorded.
  PYWFST_GRAPH_CACHE=$DATA/test_graphs PYWFST_GRAPH_CACHE_MODE=replay \
    step tests 200 "$OUT/pytest.log" "$PY" -P -m pytest -q -rs -p graph_cache -p no:cacheprovider \
    --noconftest --durations=10 tests/test_cuda_gpu.py tests/test_cuda_decoder.py
  tail -n 30 "$OUT/pytest.log"
fi

if want sanitizer; then
  SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer \
    /opt/nvidia/*/compute-sanitizer 2>/dev/null | head -n 1)
  if [[ $DRY == 1 ]]; then  # the batch alone, on the CPU
    step sanitizer-batch 300 "$OUT/sanitizer.log" "$PY" -P "$HERE"/bench.py sanitize \
      --device cuda-sim --utterances 6
  elif [[ -z $SANITIZER ]]; then
    say "sanitizer: compute-sanitizer not found"; FAILED+=("sanitizer(missing)")
  else
    step sanitizer 150 "$OUT/sanitizer.log" "$SANITIZER" --tool memcheck --error-exitcode 3 \
      --print-limit 30 "$PY" -P "$HERE"/bench.py sanitize --device "$DEVICE" --utterances 6
    tail -n 15 "$OUT/sanitizer.log"
  fi
fi

if want bench; then
  if [[ $DRY == 1 ]]; then
    ARGS=(--device cuda-sim --dry-run --limit 8 --lanes 4 --max-active 1000 --batches 4 8
          --synthetic-batch 6 --reps 2 --cpu-subset 4 --budget 600)
  else
    ARGS=(--device "$DEVICE" --budget $(( $(left) - 25 )))
  fi
  step bench $(( $(left) - 5 )) "$OUT/bench.log" "$PY" -P "$HERE"/bench.py run --out "$OUT" \
    "${ARGS[@]}"
  [[ -f $OUT/results.md ]] && cat "$OUT/results.md"
fi

[[ $DRY == 1 ]] && say "carried folder now: $(du -sm "$DATA" | cut -f1) MiB (with the tree: < 64)"
say "done in $((SECONDS - T0)) s; failed: ${FAILED[*]:-none}"
(( ${#FAILED[@]} == 0 ))
