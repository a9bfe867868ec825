#!/usr/bin/env python3
"""Word confidences of the reference acoustic model's decodes: are they calibrated?

The reference AM's emissions of benchmarks/wer's sets (``benchmarks/wer/prepare.py`` writes them
to benchmarks/wer/work/data: dev, test, and test_voice, a voice the model never heard) are
decoded with nbest=N on benchmarks/wer's graph (the LM's words spelled, '|' optional) at the
acoustic scale benchmarks/wer tuned for pywfst. Each 1-best word's confidence is set against
whether a Levenshtein alignment to the reference calls it right, for two confidences: the raw
n-best posterior (Result.confidences) and the calibrated one (pywfst.ConfidenceCalibration,
fitted on dev). Reported per set: a reliability table (words, accuracy and mean confidence per
confidence bin), the expected calibration error, and the WER of the MAP and MBR outputs.

    python benchmarks/confidence/run_benchmark.py [--nbest 50] [--lattice-beam 30]
        [--data benchmarks/wer/work/data] [--graph benchmarks/wer/work/graph_ctc]
    python benchmarks/confidence/run_benchmark.py --lattice [--lattice-beam 8]

Writes results/results.{json,md} and results/calibration.json (the fitted calibration); with
--lattice (confidences over the paths of full lattices, Decoder(lattice=True), instead of an
n-best list) results/lattice_results.{json,md} and results/lattice_calibration.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "decode"))

import pywfst  # noqa: E402
from pywfst.confidence import ConfidenceCalibration, word_correctness  # noqa: E402
from pywfst.metrics import error_rate  # noqa: E402
from worker import load_split  # noqa: E402  (benchmarks/decode/worker.py: the splits' format)
WER_WORK = HERE.parent / "wer" / "work"
BINS = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0001)]
SPLITS = ("dev", "test", "test_voice")


def reliability(confidences, right) -> dict:
    rows = []
    for low, high in BINS:
        inside = [(c, ok) for c, ok in zip(confidences, right) if low <= c < high]
        rows.append({"bin": f"[{low:.1f}, {min(high, 1.0):.1f}{']' if high > 1 else ')'}",
                     "words": len(inside),
                     "accuracy": 100.0 * np.mean([ok for _, ok in inside]) if inside else None,
                     "mean_confidence": float(np.mean([c for c, _ in inside])) if inside else None})
    ece = sum(abs(r["accuracy"] / 100 - r["mean_confidence"]) * r["words"]
              for r in rows if r["words"]) / max(len(right), 1)
    return {"bins": rows, "expected_calibration_error": ece}


def tuned_acoustic_scale(data: Path) -> float:
    tuning = json.loads((data / "tuning.json").read_text())["pywfst"]
    return min(tuning["rows"], key=lambda row: row["wer"])["params"]["acoustic_scale"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nbest", type=int, default=50)
    parser.add_argument("--lattice", action="store_true",
                        help="full lattices instead of n-best lists")
    parser.add_argument("--lattice-beam", type=float,
                        help="default: 30 with n-best lists, 8 with --lattice")
    parser.add_argument("--beam", type=float, default=16.0)
    parser.add_argument("--data", type=Path, default=WER_WORK / "data")
    parser.add_argument("--graph", type=Path, default=WER_WORK / "graph_ctc")
    args = parser.parse_args()

    scale = tuned_acoustic_scale(args.data)
    if args.lattice_beam is None:
        args.lattice_beam = 8.0 if args.lattice else 30.0
    alternatives = {"lattice": True} if args.lattice else {"nbest": args.nbest}
    decoder = pywfst.Decoder(args.graph, beam=args.beam, lattice_beam=args.lattice_beam,
                             acoustic_scale=scale, **alternatives)
    prefix = "lattice_" if args.lattice else ""
    decoded = {}
    started = time.perf_counter()
    for split in SPLITS:
        emissions, references = load_split(str(args.data), split, None)
        decoded[split] = (decoder.decode_batch(emissions), emissions, references)
    seconds = time.perf_counter() - started
    calibration = ConfidenceCalibration.fit(*decoded["dev"])
    (HERE / "results").mkdir(exist_ok=True)
    calibration.save(HERE / "results" / f"{prefix}calibration.json")

    sets = {}
    for split in SPLITS[1:]:
        results, emissions, references = decoded[split]
        right = [ok for r, ref in zip(results, references) for ok in word_correctness(r, ref)]
        raw = [c for r in results for c in (r.confidences or [1.0] * len(r.words))]
        calibrated = [c for r, e in zip(results, emissions) for c in calibration.confidences(r, e)]
        sets[split] = {"utterances": len(results), "words": len(right),
                       "raw": reliability(raw, right), "calibrated": reliability(calibrated, right),
                       "wer_map": error_rate(list(zip(references, (r.text for r in results)))),
                       "wer_mbr": error_rate(list(zip(references, (r.mbr.text for r in results))))}
    results = {"machine": "2-core AMD EPYC KVM, 23.5 GB", **alternatives,
               "lattice_beam": args.lattice_beam, "beam": args.beam, "acoustic_scale": scale,
               "dev_utterances": len(decoded["dev"][0]), "sets": sets,
               "seconds_decode_all_sets": seconds,
               "calibration_weights": dict(zip(json.loads(
                   (HERE / "results" / f"{prefix}calibration.json").read_text())["features"],
                   calibration.weights.tolist()))}
    (HERE / "results" / f"{prefix}results.json").write_text(json.dumps(results, indent=2) + "\n")
    source = ("full lattices (posteriors over their 50 cheapest paths)" if args.lattice
              else f"nbest {args.nbest}")
    lines = [f"Reference AM emissions of benchmarks/wer's sets, its graph, beam {args.beam:g}, "
             f"acoustic scale {scale:g} (tuned there), {source}, lattice_beam "
             f"{args.lattice_beam:g}. Calibration fitted on dev "
             f"({len(decoded['dev'][0])} utterances)."]
    for split, row in sets.items():
        lines += ["", f"**{split}** ({row['utterances']} utterances, {row['words']} decoded words; "
                  f"WER MAP {row['wer_map']:.1f} %, MBR {row['wer_mbr']:.1f} %)", "",
                  "| confidence | raw: words | raw: right (%) | raw: mean | calibrated: words | "
                  "calibrated: right (%) | calibrated: mean |", "|---|---:|---:|---:|---:|---:|---:|"]
        for raw, cal in zip(row["raw"]["bins"], row["calibrated"]["bins"]):
            cells = []
            for r in (raw, cal):
                cells += [str(r["words"]), f"{r['accuracy']:.1f}" if r["words"] else "-",
                          f"{r['mean_confidence']:.3f}" if r["words"] else "-"]
            lines.append(f"| {raw['bin']} | " + " | ".join(cells) + " |")
        lines += ["", f"Expected calibration error: raw {row['raw']['expected_calibration_error']:.3f}"
                  f", calibrated {row['calibrated']['expected_calibration_error']:.3f}."]
    (HERE / "results" / f"{prefix}results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
