#!/usr/bin/env python3
"""The demo's graph options, measured: the demo graph (`pywfst demo`'s pruned LM, spelled, '|'
between words) with an optional '|' and with a mandatory one that the last word may leave out,
for each acoustic model given, on the nine bundled demo recordings and on the corpus's test and
test_voice sets (corpus/work/audio, when synthesized). Default search options (beam 16), one
thread. Reported per model, graph and set: WER, the share of utterances that ended in a final
state, and x realtime of the decoder.

    python benchmarks/demo_graph/run_benchmark.py                       # the bundled model
    python benchmarks/demo_graph/run_benchmark.py old.npz new.npz

Graphs are built into work/ (one per boundary mode; ~20 s each). Writes results/results.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "graph_build"))

import pywfst  # noqa: E402
from bench_util import machine_info  # noqa: E402
from pywfst.am import AcousticModel  # noqa: E402
from pywfst.cli.demo import DEMO_GRAPH_OPTIONS, bundled_utterances, demo_data_dir  # noqa: E402
from pywfst.graph import build_graph  # noqa: E402
from pywfst.metrics import error_rate  # noqa: E402

BOUNDARIES = {"optional '|'": False, "mandatory '|' (the last word may leave it out)": True}


def utterance_sets(audio: Path) -> dict[str, list[tuple[Path, str]]]:
    sets = {"demo (9 bundled recordings)": bundled_utterances()}
    for split in ("test", "test_voice"):
        manifest = audio / f"{split}.jsonl"
        if manifest.exists():
            entries = [json.loads(line) for line in manifest.read_text().splitlines()]
            sets[split] = [(audio / e["audio"], e["text"]) for e in entries]
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path, nargs="*")
    parser.add_argument("--audio", type=Path, default=REPO / "corpus" / "work" / "audio")
    args = parser.parse_args()
    models = {path.name: AcousticModel.load(path) for path in args.models} or \
        {"bundled": AcousticModel.load()}
    frame_shift = next(iter(models.values())).frame_shift
    (HERE / "work").mkdir(exist_ok=True)
    tokens = next(iter(models.values())).write_tokens(HERE / "work" / "tokens.txt")
    graphs = {}
    for label, mandatory in BOUNDARIES.items():
        out = HERE / "work" / ("graph_mandatory" if mandatory else "graph_optional")
        options = dict(DEMO_GRAPH_OPTIONS, boundary_mandatory=mandatory, frame_shift=frame_shift)
        graphs[label] = build_graph(tokens, out, lm=demo_data_dir() / "lm.arpa.gz",
                                    progress=False, force=True, **options)
    sets = utterance_sets(args.audio)
    rows = []
    for model_name, model in models.items():
        emissions = {name: [model.emissions(path) for path, _ in utterances]
                     for name, utterances in sets.items()}
        for label, graph in graphs.items():
            decoder = pywfst.Decoder(graph, num_threads=1, frame_shift=model.frame_shift)
            for name, utterances in sets.items():
                start = time.perf_counter()
                results = decoder.decode_batch(emissions[name])
                seconds = time.perf_counter() - start
                audio_seconds = sum(len(e) for e in emissions[name]) * model.frame_shift
                rows.append({"model": model_name, "graph": label, "set": name,
                             "utterances": len(results),
                             "wer": error_rate([(text, r.text) for (_, text), r
                                                in zip(utterances, results)]),
                             "reached_final": sum(r.reached_final for r in results) / len(results),
                             "x_realtime": audio_seconds / seconds})
                print(json.dumps(rows[-1]), flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    # The demo's options but the boundary mode, which each graph sets itself.
    common = {k: v for k, v in DEMO_GRAPH_OPTIONS.items() if k != "boundary_mandatory"}
    result = {"started": time.strftime("%Y-%m-%d %H:%M"), "rows": rows, "machine": machine_info(),
              "graph_options": common}
    (HERE / "results" / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# The demo graph's word boundary", "",
             f"Run {result['started']}; demo graph options {json.dumps(common)} "
             "plus the boundary mode; pywfst's default search options (beam 16), one thread; "
             f"machine {json.dumps(result['machine'])}.", "",
             "| model | graph | set | utterances | WER % | final state reached | x realtime |",
             "|---|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['graph']} | {r['set']} | {r['utterances']} | {r['wer']:.2f} | "
              f"{100 * r['reached_final']:.0f} % | {r['x_realtime']:.0f} |" for r in rows]
    (HERE / "results" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
