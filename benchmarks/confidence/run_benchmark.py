#!/usr/bin/env python3
"""Word confidences of the reference acoustic model's decodes: are they calibrated?

The bundled demo recordings (pywfst/data/demo: general, medical and legal sentences in a voice
the model never heard) go through the reference AM and the demo graph (built once and cached,
as `pywfst demo` does), decoded with nbest=N. Each 1-best word's confidence (its posterior over
the n-best list, Result.confidences) is set against whether a Levenshtein alignment to the
reference calls it right. Reported: a reliability table (words, accuracy and mean confidence per
confidence bin), the expected calibration error, and the WER of the MAP and MBR outputs.

    python benchmarks/confidence/run_benchmark.py [--nbest 50] [--lattice-beam 30]

Writes results/results.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import pywfst
from pywfst.am import AcousticModel
from pywfst.cli.demo import bundled_utterances, demo_graph
from pywfst.metrics import align_words, error_rate

HERE = Path(__file__).resolve().parent
BINS = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0001)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nbest", type=int, default=50)
    parser.add_argument("--lattice-beam", type=float, default=30.0)
    parser.add_argument("--beam", type=float, default=16.0)
    args = parser.parse_args()

    model = AcousticModel.load()
    utterances = bundled_utterances()
    with tempfile.TemporaryDirectory() as scratch:
        graph = demo_graph(model, Path(scratch), rebuild=False)
        decoder = pywfst.Decoder(graph, beam=args.beam, nbest=args.nbest,
                                 lattice_beam=args.lattice_beam, frame_shift=model.frame_shift)
        scored, map_pairs, mbr_pairs = [], [], []
        started = time.perf_counter()
        for path, reference in utterances:
            result = decoder.decode(model.emissions(path))
            truth = reference.split()
            right = [False] * len(result.words)
            for i, j in align_words(result.words, truth):
                if i is not None and j is not None and result.words[i] == truth[j]:
                    right[i] = True
            scored += zip(result.confidences, right)
            map_pairs.append((reference, result.text))
            mbr_pairs.append((reference, result.mbr.text))
        seconds = time.perf_counter() - started
    rows = []
    for low, high in BINS:
        inside = [(c, ok) for c, ok in scored if low <= c < high]
        rows.append({"bin": f"[{low:.1f}, {min(high, 1.0):.1f}{']' if high > 1 else ')'}",
                     "words": len(inside),
                     "accuracy": 100.0 * sum(ok for _, ok in inside) / len(inside) if inside else None,
                     "mean_confidence": sum(c for c, _ in inside) / len(inside) if inside else None})
    ece = sum(abs(r["accuracy"] / 100 - r["mean_confidence"]) * r["words"]
              for r in rows if r["words"]) / max(len(scored), 1)
    results = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
                   f"{platform.python_version()}",
        "utterances": len(utterances), "words": len(scored), "nbest": args.nbest,
        "lattice_beam": args.lattice_beam, "beam": args.beam, "bins": rows,
        "expected_calibration_error": ece, "wer_map": error_rate(map_pairs),
        "wer_mbr": error_rate(mbr_pairs), "seconds_am_and_decode": seconds,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"Reference AM, {len(utterances)} bundled demo recordings ({len(scored)} decoded "
             f"words), nbest {args.nbest}, lattice_beam {args.lattice_beam:g}, beam {args.beam:g}.",
             "", "| confidence | words | right (%) | mean confidence |", "|---|---:|---:|---:|"]
    for r in rows:
        accuracy = f"{r['accuracy']:.1f}" if r["words"] else "-"
        mean = f"{r['mean_confidence']:.3f}" if r["words"] else "-"
        lines.append(f"| {r['bin']} | {r['words']} | {accuracy} | {mean} |")
    lines += ["", f"Expected calibration error {ece:.3f}. WER: MAP {results['wer_map']:.1f} %, "
                  f"MBR {results['wer_mbr']:.1f} %."]
    (HERE / "results" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
