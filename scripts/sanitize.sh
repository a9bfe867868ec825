#!/usr/bin/env bash
# Builds the extension (_core) with AddressSanitizer + UndefinedBehaviorSanitizer into
# build/sanitize and runs the test suite against it.
#
#   scripts/sanitize.sh [pytest args...]      (default: tests/)
#
# Environment: PYTHON (default .venv/bin/python: the venv with the test dependencies), CXX
# (default g++; clang++ works too), JOBS (default 2), PYWFST_CUDA (AUTO, ON or OFF: the CUDA
# backend, which no sanitized test runs on a machine without a GPU; CI sets OFF).
#
# The sanitized module is imported instead of the installed one through a small venv of its own
# (build/sanitize/venv) that sees the main venv's packages but not its editable-install hook,
# with a copy of the package (links to pywfst/*) holding the sanitized _core first on the path.
# CPython is not instrumented, so the ASan runtime is preloaded and leak checks are off (the
# interpreter keeps objects alive at exit by design).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-$root/.venv/bin/python}
cxx=${CXX:-g++}
jobs=${JOBS:-2}
out=$root/build/sanitize

flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# Bounds checks in std::vector::operator[] and friends: catch overruns that stay inside a
# vector's capacity, which ASan cannot see.
flags="$flags -D_GLIBCXX_ASSERTIONS"

started=$(date +%s)
cmake -S . -B "$out/cmake" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DPYWFST_CUDA="${PYWFST_CUDA:-AUTO}" \
  -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" >/dev/null
cmake --build "$out/cmake" --target _core -j "$jobs"
built=$(date +%s)
echo "sanitize: built _core with $cxx in $((built - started)) s"

# The package: links to the sources, and the sanitized module.
site=$out/site
rm -rf "$site"
mkdir -p "$site/pywfst"
for entry in "$root"/pywfst/*; do
  case "$entry" in *.so) continue ;; esac
  ln -s "$entry" "$site/pywfst/"
done
cp "$out"/cmake/csrc/_core*.so "$site/pywfst/"

# A venv that sees the main venv's site-packages through a .pth (whose own .pth files, the
# editable-install hook among them, are therefore not run).
venv=$out/venv
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv --without-pip "$venv"
fi
main_site=$("$python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
venv_site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$main_site" > "$venv_site/main-venv.pth"
# The console script, which some tests run next to sys.executable.
printf '#!%s\nimport sys\nfrom pywfst.cli import main\nsys.exit(main())\n' "$venv/bin/python" \
  > "$venv/bin/pywfst"
chmod +x "$venv/bin/pywfst"

case "$("$cxx" --version)" in
  *clang*) runtime=$("$cxx" -print-file-name=libclang_rt.asan-x86_64.so) ;;
  *) runtime=$("$cxx" -print-file-name=libasan.so) ;;
esac
[ -f "$runtime" ] || { echo "sanitize: ASan runtime not found: $runtime" >&2; exit 1; }

export PYTHONPATH=$site
# Like python -P, also in the tests' subprocesses: the working directory (the repository root)
# must not shadow the package copy.
export PYTHONSAFEPATH=1
# libstdc++ too: ASan's __cxa_throw interceptor looks for the real one when it starts, and the
# python executable does not link libstdc++ (every C++ exception would then abort).
export LD_PRELOAD="$runtime $(g++ -print-file-name=libstdc++.so)"
# Reports go to files too: pytest captures a test's stderr, and a halted process never shows it.
logs=$out/logs
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS=detect_leaks=0:log_path=$logs/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan
# Make sure the tests will import the sanitized module, not the installed one.
"$venv/bin/python" -c "
import sys, pywfst._core as core
expected = '$site/pywfst/'
if not core.__file__.startswith(expected):
    sys.exit(f'sanitize: imported {core.__file__}, not the sanitized module under {expected}')
print('sanitize: testing', core.__file__)
"
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider "${@:-tests/}" || status=$?
echo "sanitize: tests ran in $(($(date +%s) - built)) s, pytest exit status $status"
if compgen -G "$logs/*" >/dev/null; then
  echo "sanitize: sanitizer reports:"
  cat "$logs"/*
  status=1
fi
exit $status
