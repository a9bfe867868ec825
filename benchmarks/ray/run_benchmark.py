#!/usr/bin/env python3
"""Ray scale-out throughput: pywfst.ray.decode_dataset with 1 and 2 actors against one process's
Decoder.decode_batch with 1 and 2 threads, on the same utterances.

The utterances are the reference acoustic model's emissions of the nine bundled demo recordings,
each repeated --copies times (so that a run lasts long enough to time), written to four .npz
files; the graph is the demo's (34,825 spelled words, bundled 3-gram LM), from pywfst's graph
cache. Ray runs locally (ray.init with 2 CPUs; actors of 1 CPU). Each system decodes everything
once per round; rounds are interleaved and medians reported. Ray's time is the whole
``emissions_dataset(...) -> decode_dataset(...) -> take_all()`` (reading the files, starting the
actors, each loading the graph, and decoding), as a user would see it; its results are checked
against decode_batch's.

    python benchmarks/ray/run_benchmark.py [--rounds 3] [--copies 20]

Writes results/results.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import ray

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "graph_build"))

import pywfst  # noqa: E402
import pywfst.ray  # noqa: E402
from bench_util import machine_info  # noqa: E402
from pywfst.am import AcousticModel  # noqa: E402
from pywfst.cli.demo import bundled_utterances, demo_graph  # noqa: E402

NUM_FILES = 4


def write_files(utterances, directory: Path):
    names = list(utterances)
    paths = []
    for index in range(NUM_FILES):
        path = directory / f"part{index}.npz"
        np.savez(path, **{name: utterances[name] for name in names[index::NUM_FILES]})
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    model = AcousticModel.load()
    scratch = Path(tempfile.mkdtemp(prefix="pywfst_ray_bench_"))
    graph = demo_graph(model, scratch, rebuild=False)
    recordings = [(path.stem, model.emissions(path)) for path, _ in bundled_utterances()]
    utterances = {f"{name}-{copy}": scores for copy in range(args.copies)
                  for name, scores in recordings}
    paths = write_files(utterances, scratch)
    audio = sum(len(s) for s in utterances.values()) * model.frame_shift
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False

    expected = {}

    def single(threads):
        decoder = pywfst.Decoder(graph, num_threads=threads)
        results = decoder.decode_batch(list(utterances.values()))
        expected.update({name: r.text for name, r in zip(utterances, results)})

    def on_ray(actors):
        ds = pywfst.ray.emissions_dataset(paths)
        rows = pywfst.ray.decode_dataset(ds, graph, actors=actors).take_all()
        assert len(rows) == len(utterances) and all(r["error"] is None for r in rows)
        assert all(r["text"] == expected[r["id"]] for r in rows), "Ray and decode_batch differ"

    systems = {"decode_batch, 1 thread": (lambda: single(1), 1),
               "decode_batch, 2 threads": (lambda: single(2), 2),
               "Ray, 1 actor": (lambda: on_ray(1), 1),
               "Ray, 2 actors": (lambda: on_ray(2), 2)}
    times = {name: [] for name in systems}
    for _ in range(args.rounds):
        for name, (run, _) in systems.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    ray.shutdown()
    shutil.rmtree(scratch)  # the .npz files (the graph itself is in pywfst's cache)

    base = statistics.median(times["decode_batch, 1 thread"])
    table = []
    for name, (_, workers) in systems.items():
        seconds = statistics.median(times[name])
        table.append({"system": name, "workers": workers, "seconds": seconds,
                      "utterances_per_second": len(utterances) / seconds,
                      "per_worker_vs_one_thread": base / seconds / workers,
                      "x_realtime": audio / seconds})
    result = {"utterances": len(utterances), "audio_seconds": audio, "rounds": args.rounds,
              "graph_states": graph.info["fst_counts"]["HCLG"]["states"], "table": table,
              "machine": machine_info(), "date": time.strftime("%Y-%m-%d %H:%M")}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "results.json").write_text(json.dumps(result, indent=2))
    lines = [f"# Ray scale-out ({result['date']})", "",
             f"{len(utterances)} utterances ({audio / 60:.1f} min of audio: the 9 demo "
             f"recordings' AM emissions x {args.copies}) in {NUM_FILES} .npz files, demo graph "
             f"({result['graph_states']:,} states), default search options; median of "
             f"{args.rounds} interleaved rounds. Ray: local, 2 CPUs, the whole pipeline (read, "
             "start actors, load the graph, decode).", "",
             "| system | workers | seconds | utt/s | x real time | per-worker throughput vs "
             "1 thread |", "|---|---|---|---|---|---|"]
    for row in table:
        lines.append(f"| {row['system']} | {row['workers']} | {row['seconds']:.2f} | "
                     f"{row['utterances_per_second']:.1f} | {row['x_realtime']:.0f} | "
                     f"{row['per_worker_vs_one_thread']:.2f} |")
    lines += ["", f"Machine: {result['machine']}"]
    (HERE / "results" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
