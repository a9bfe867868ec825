#!/usr/bin/env python3
"""The search defaults, measured on the reference acoustic model: beam, min_active, and the word
boundary of spelling graphs (optional '|' between words, the default, or mandatory).

benchmarks/wer's emissions of the reference AM (``python benchmarks/wer/run_benchmark.py`` writes
them to benchmarks/wer/work/data, with its graph_ctc: the corpus LM's words spelled, '|'
optional) are decoded on that graph and on the same one with a mandatory '|' (built here into
work/). For each graph the acoustic scale is chosen on dev among three around the one
benchmarks/wer tuned; then dev and test are decoded at each search setting. Reported per graph
and setting: WER, x realtime of the decoder (one thread, 30 ms frames) and the share of
utterances that ended in a final state.

    python benchmarks/defaults/run_benchmark.py

Writes results/results.{json,md}.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WER_WORK = REPO / "benchmarks" / "wer" / "work"
sys.path.insert(0, str(REPO / "benchmarks" / "graph_build"))
sys.path.insert(0, str(REPO / "benchmarks" / "decode"))

import pywfst  # noqa: E402
from bench_util import machine_info  # noqa: E402
from pywfst.am import AcousticModel  # noqa: E402
from pywfst.metrics import error_rate  # noqa: E402
from worker import load_split  # noqa: E402  (benchmarks/decode/worker.py: the splits' format)

SETTINGS = [  # (label, options); the first is pywfst's default
    ("beam 16, min_active 200 (default)", {"beam": 16.0, "min_active": 200}),
    ("beam 16, min_active 20 (Kaldi's)", {"beam": 16.0, "min_active": 20}),
    ("beam 12, min_active 20", {"beam": 12.0, "min_active": 20}),
    ("beam 10, min_active 20", {"beam": 10.0, "min_active": 20}),
    ("beam 8, min_active 20", {"beam": 8.0, "min_active": 20}),
]
SCALE_FACTORS = (0.8, 1.0, 1.25)


def decode(graph, utterances, references, frame_shift, **options) -> dict:
    decoder = pywfst.Decoder(graph, num_threads=1, **options)
    start = time.perf_counter()
    results = decoder.decode_batch(utterances)
    seconds = time.perf_counter() - start
    audio = sum(len(u) for u in utterances) * frame_shift
    return {"wer": error_rate(list(zip(references, (r.text for r in results)))),
            "x_realtime": audio / seconds,
            "reached_final": sum(r.reached_final for r in results) / len(results)}


def main() -> None:
    data = WER_WORK / "data"
    tuned = json.loads((data / "tuning.json").read_text())["pywfst"]["chosen"]["acoustic_scale"]
    frame_shift = AcousticModel.load().frame_shift  # the model benchmarks/wer's data comes from
    graphs = {"optional '|'": pywfst.Graph.load(WER_WORK / "graph_ctc")}
    mandatory = HERE / "work" / "graph_ctc_mandatory"
    if not (mandatory / "graph.json").exists():
        graphs["mandatory '|'"] = pywfst.build_graph(
            data / "tokens.txt", mandatory, spell=True, word_boundary="|",
            boundary_mandatory=True, lm=data / "lm.arpa", progress=False)
    else:
        graphs["mandatory '|'"] = pywfst.Graph.load(mandatory)
    splits = {split: load_split(str(data), split, None) for split in ("dev", "test")}
    rows = []
    for name, graph in graphs.items():
        scores = {}
        for factor in SCALE_FACTORS:
            scale = round(tuned * factor, 3)
            scores[scale] = decode(graph, *splits["dev"], frame_shift, acoustic_scale=scale,
                                   **SETTINGS[0][1])["wer"]
        scale = min(scores, key=lambda s: (scores[s], s))
        for label, options in SETTINGS:
            row = {"graph": name, "setting": label, "acoustic_scale": scale}
            for split, (utterances, references) in splits.items():
                measured = decode(graph, utterances, references, frame_shift,
                                  acoustic_scale=scale, **options)
                row.update({f"{split}_{key}": value for key, value in measured.items()})
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    report = {"machine": machine_info(), "tuned_acoustic_scale": tuned, "rows": rows}
    (out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"Reference AM emissions of benchmarks/wer's dev and test sets; one thread; "
             f"machine {machine_info()}.", "",
             "| graph | setting | acoustic scale | dev WER % | test WER % | test x realtime | "
             "test: final state reached |", "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['graph']} | {row['setting']} | {row['acoustic_scale']:g} | "
                     f"{row['dev_wer']:.2f} | {row['test_wer']:.2f} | {row['test_x_realtime']:.0f} | "
                     f"{100 * row['test_reached_final']:.0f} % |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
