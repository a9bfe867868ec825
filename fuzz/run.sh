#!/usr/bin/env bash
# Builds every fuzz harness and runs each for a while; exits non-zero when any finds a crash.
#
#   fuzz/run.sh [--seconds N] [--jobs J] [--runs R] [--seed S] [HARNESS...]
#
#   --seconds N  time per harness (default 20)
#   --jobs J     harnesses run at once (default 2)
#   --runs R     stop a harness after R executions instead (N then only bounds it)
#   --seed S     libFuzzer's random seed (default: a new one each run); CI fixes it so that
#                its short run tries the same inputs every time and fails only on a change
#   HARNESS      any of: fst_reader mapped_graph decode tokens lexicon lexiconp arpa graph_json
#                transition_model (default all)
#
# Needs clang with its libFuzzer runtime (Debian: clang libclang-rt-dev) and the
# project's venv (PYTHON, default .venv/bin/python) with pywfst installed; atheris, pybind11
# and cmake are installed from PyPI into build/fuzz/pydeps when missing.
#
# Seeds come from fuzz/corpus/HARNESS (committed); the growing corpora, logs and crash inputs
# stay under build/fuzz/ (corpus/, logs/, artifacts/). Rerun one crash input with
#   build/fuzz/native/decode_fuzzer build/fuzz/artifacts/decode-crash-...        (native)
#   PYTHONPATH=build/fuzz/pydeps .venv/bin/python fuzz/python/parsers_fuzzer.py arpa FILE
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=20 jobs=2 runs=-1 seed=0 harnesses=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
native=(fst_reader mapped_graph decode)
python_targets=(tokens lexicon lexiconp arpa graph_json transition_model)
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${native[@]}" "${python_targets[@]}")
python=${PYTHON:-$root/.venv/bin/python}
out=$root/build/fuzz
mkdir -p "$out/logs" "$out/artifacts" "$out/corpus"

# atheris, and pybind11 for reading csrc/CMakeLists.txt (a plain `pip install .` leaves it out),
# come from PyPI into build/fuzz/pydeps when the venv lacks them.
export PYTHONPATH=$out/pydeps${PYTHONPATH:+:$PYTHONPATH}
for module in atheris pybind11; do
  if ! "$python" -c "import $module" 2>/dev/null; then
    "$python" -m pip install -q --target "$out/pydeps" "$module"
  fi
done
if ! command -v cmake >/dev/null; then  # the cmake wheel, when the machine has none
  [ -x "$out/pydeps/bin/cmake" ] || "$python" -m pip install -q --target "$out/pydeps" cmake
  export PATH=$out/pydeps/bin:$PATH
fi

started=$(date +%s)
wants_native=false
for h in "${harnesses[@]}"; do [[ " ${native[*]} " == *" $h "* ]] && wants_native=true; done
if $wants_native; then
  cmake -S fuzz -B "$out/native" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
    -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" >/dev/null
  cmake --build "$out/native" -j 2 >/dev/null
fi
echo "fuzz: built in $(($(date +%s) - started)) s"

# One harness: libFuzzer options shared by both kinds; -timeout makes a slow input (a hang) a
# finding, -rss_limit_mb an unbounded allocation.
run_one() {
  local h=$1 corpus=$out/corpus/$1 dict=()
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$h"/* "$corpus"/
  local options=(-max_total_time="$seconds" -runs="$runs" -seed="$seed" -timeout=10
                 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix="$out/artifacts/$h-")
  if [[ " ${native[*]} " == *" $h "* ]]; then
    [ -f "fuzz/native/$h.dict" ] && dict=(-dict="fuzz/native/$h.dict")
    "$out/native/${h}_fuzzer" "${options[@]}" "${dict[@]}" "$corpus"
  else
    [ -f "fuzz/python/$h.dict" ] && dict=(-dict="fuzz/python/$h.dict")
    mkdir -p "$out/work"
    FUZZ_WORK=$out/work "$python" fuzz/python/parsers_fuzzer.py "$h" "${options[@]}" "${dict[@]}" \
      "$corpus"
  fi
}

declare -A pids
for h in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_one "$h" > "$out/logs/$h.log" 2>&1 &
  pids[$h]=$!
done

failed=0
printf '%-11s %10s %8s %8s %8s %7s  %s\n' harness executions exec/s cov ft corpus result
for h in "${harnesses[@]}"; do
  status=0
  wait "${pids[$h]}" || status=$?
  log=$out/logs/$h.log
  stat() { grep -o "^stat::$1: *[0-9]*" "$log" | grep -o '[0-9]*$' || echo '?'; }
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo '?')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo '?')
  result=ok
  if [ $status -ne 0 ]; then
    result="FAILED (exit $status): see $log"
    failed=1
  fi
  printf '%-11s %10s %8s %8s %8s %7s  %s\n' "$h" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$cov" "$ft" "$(ls "$out/corpus/$h" | wc -l)" "$result"
done
rm -rf "$out/work"
echo "fuzz: ${#harnesses[@]} harnesses, $seconds s each, $(($(date +%s) - started)) s in all"
exit $failed
