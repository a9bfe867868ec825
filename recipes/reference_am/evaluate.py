#!/usr/bin/env python3
"""Greedy CER/WER of exported models on the corpus's dev, test and test_voice sets, side by side.

    python recipes/reference_am/evaluate.py pywfst/data/am/reference_char_ctc.npz other.npz

Uses the features train.py cached in --work (computing them on first use), so every model is
measured on the same inputs. Prints a markdown table; --json writes the figures.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from train import greedy_metrics, load_split

from pywfst.am import AcousticModel

HERE = Path(__file__).resolve().parent
SETS = ("dev", "test", "test_voice")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--audio", type=Path, default=HERE.parents[1] / "corpus" / "work" / "audio")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = {split: load_split(args.audio, split, args.work / f"features_{split}.npz")
            for split in SETS}
    results = {str(path): {split: greedy_metrics(AcousticModel.load(path), *data[split])
                           for split in SETS} for path in args.models}
    print("| model | " + " | ".join(f"{s} CER % | {s} WER %" for s in SETS) + " |")
    print("| --- |" + " ---: |" * 2 * len(SETS))
    for path, metrics in results.items():
        print(f"| {Path(path).name} | "
              + " | ".join(f"{metrics[s]['cer']:.2f} | {metrics[s]['wer']:.2f}" for s in SETS) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
