#!/usr/bin/env bash
# Installs what benchmarks/decode needs besides pywfst's own test extras (run from the repo root,
# as root for apt-get; the main venv at .venv must exist with pywfst installed):
#   - Debian wordnet-base: the text for the LM and the test sentences
#   - flashlight-text (wheel, no dependencies) into the main venv
#   - benchmarks/decode/venv-pyctc: pyctcdecode, which pins numpy<2, with kenlm
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
if [ ! -d /usr/share/wordnet ]; then
  apt-get update -qq && apt-get install -y -qq wordnet-base
fi
"$REPO/.venv/bin/pip" install -q flashlight-text kaldi-decoder kaldifst kenlm kaldingram
if [ ! -x "$HERE/venv-pyctc/bin/python" ]; then
  python3 -m venv "$HERE/venv-pyctc"
fi
"$HERE/venv-pyctc/bin/pip" install -q pyctcdecode 'numpy<2' kenlm
echo "setup done: main venv $("$REPO/.venv/bin/python" -c 'import flashlight.lib.text, kaldi_decoder; print("ok")'), venv-pyctc $("$HERE/venv-pyctc/bin/python" -c 'import pyctcdecode, numpy; print(numpy.__version__)')"
