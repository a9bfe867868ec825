#!/usr/bin/env bash
# Re-estimates the demo's trigram LM (pywfst/data/demo/lm.arpa) from its corpus with kaldingram
# (Kneser-Ney). Needs `pip install kaldingram`.
set -euo pipefail
data="$(cd "$(dirname "$0")/../../pywfst/data/demo" && pwd)"
kaldingram train --ngram-order 3 --text "$data/corpus.txt" --lm "$data/lm.arpa"
