#!/usr/bin/env python3
"""Streaming latency: the bundled recordings, decoded chunk by chunk as a live transcriber would.

The reference acoustic model's emissions of the nine bundled demo WAVs (pywfst/data/demo) are fed
to ``Decoder.stream()`` in chunks of 1, 10 and 33 frames (30 ms, 300 ms, about 1 s of audio);
after every chunk the partial words are read. Reported per chunk size: the decoder's latency per
chunk (accept + partial; median, 95th percentile, max), the whole stream's decoder time against
offline decoding of the same scores (median of --rounds interleaved runs), and whether
``finish()`` gave the offline result (it must: same words and cost). The acoustic model's own
time is not included there. The graph is the demo's (bundled LM, char spellings, '|' after
each word but the last, where it may be left out),
built once into work/cache.

Then live audio, as ``pywfst demo --stream`` runs it: the recordings' samples in chunks of 100,
300 and 1000 ms through the acoustic model's EmissionStream and the decoder's stream. Reported:
the time per chunk (acoustic model + decoder + partial; median, p95, max), the whole stream's
time against offline (whole-file AM + decode), and the WER of the streamed transcripts against
the offline ones (they differ only by the features' mean: the audio so far, not the whole file).

    python benchmarks/stream/run_benchmark.py [--rounds 5]

Writes results/results.{json,md} and prints the partials of one recording.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "graph_build"))
os.environ.setdefault("PYWFST_CACHE", str(HERE / "work" / "cache"))  # the demo graph, kept here

import pywfst  # noqa: E402
from bench_util import machine_info  # noqa: E402
from pywfst.am import AcousticModel, read_wav, resample  # noqa: E402
from pywfst.am.streaming import EmissionStream  # noqa: E402
from pywfst.cli.demo import bundled_utterances, demo_graph  # noqa: E402
from pywfst.metrics import error_rate  # noqa: E402

CHUNKS = (1, 10, 33)
AUDIO_CHUNKS_MS = (100, 300, 1000)


def stream_once(decoder: pywfst.Decoder, emissions: np.ndarray, size: int):
    """(per-chunk latencies in s, total s, result, partial texts)."""
    stream = decoder.stream()
    latencies, partials = [], []
    started = time.perf_counter()
    for start in range(0, len(emissions), size):
        before = time.perf_counter()
        stream.accept(emissions[start:start + size])
        partials.append(stream.partial().text)
        latencies.append(time.perf_counter() - before)
    result = stream.finish()
    return latencies, time.perf_counter() - started, result, partials


def live_audio(model: AcousticModel, decoder: pywfst.Decoder, rounds: int) -> dict:
    """Per chunk size: latencies, stream and offline totals, transcripts."""
    rate = model.features.sample_rate
    recordings = []
    for path, reference in bundled_utterances():
        samples, sample_rate = read_wav(path)
        recordings.append((path, reference, resample(samples, sample_rate, rate)))
    rows = {ms: {"latencies": [], "totals": [], "texts": {}} for ms in AUDIO_CHUNKS_MS}
    offline_totals, offline_texts = [], {}
    for _ in range(rounds):  # interleaved: offline, then each chunk size
        started = time.perf_counter()
        for path, _, _ in recordings:
            offline_texts[path.name] = decoder.decode(model.emissions(path)).text
        offline_totals.append(time.perf_counter() - started)
        for ms, row in rows.items():
            chunk, total = rate * ms // 1000, 0.0
            for path, _, samples in recordings:
                emissions, stream = EmissionStream(model), decoder.stream()
                started = time.perf_counter()
                for start in range(0, len(samples), chunk):
                    before = time.perf_counter()
                    stream.accept(emissions.accept(samples[start:start + chunk]))
                    stream.partial()
                    row["latencies"].append(time.perf_counter() - before)
                stream.accept(emissions.finish())
                row["texts"][path.name] = stream.finish().text
                total += time.perf_counter() - started
            row["totals"].append(total)
    references = [(path.name, reference) for path, reference, _ in recordings]
    offline = statistics.median(offline_totals)
    table = []
    for ms, row in rows.items():
        table.append({
            "chunk_ms": ms, "latency_ms_median": 1000 * statistics.median(row["latencies"]),
            "latency_ms_p95": 1000 * percentile(row["latencies"], 95),
            "latency_ms_max": 1000 * max(row["latencies"]),
            "stream_seconds": statistics.median(row["totals"]), "offline_seconds": offline,
            "wer_stream_vs_offline": error_rate([(offline_texts[n], row["texts"][n])
                                                 for n, _ in references]),
            "wer_stream": error_rate([(r, row["texts"][n]) for n, r in references])})
    return {"table": table, "lookahead_seconds": model.network.context * model.frame_shift,
            "wer_offline": error_rate([(r, offline_texts[n]) for n, r in references])}


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    model = AcousticModel.load()
    (HERE / "work").mkdir(parents=True, exist_ok=True)
    graph = demo_graph(model, HERE / "work", rebuild=False)
    decoder = pywfst.Decoder(graph, frame_shift=model.frame_shift)
    utterances = [(path.name, model.emissions(path)) for path, _ in bundled_utterances()]
    audio = sum(len(e) for _, e in utterances) * model.frame_shift
    offline_times, rows = [], {size: {"latencies": [], "totals": [], "same": True}
                               for size in CHUNKS}
    sample = {}
    for _ in range(args.rounds):  # interleaved: offline, then each chunk size
        started = time.perf_counter()
        offline = {name: decoder.decode(e) for name, e in utterances}
        offline_times.append(time.perf_counter() - started)
        for size in CHUNKS:
            total = 0.0
            for name, emissions in utterances:
                latencies, seconds, result, partials = stream_once(decoder, emissions, size)
                rows[size]["latencies"] += latencies
                total += seconds
                want = offline[name]
                rows[size]["same"] &= (result.words, result.cost) == (want.words, want.cost)
                if size == 10 and name == utterances[0][0]:
                    sample = {"utterance": name, "partials": partials, "final": result.text}
            rows[size]["totals"].append(total)
    offline_median = statistics.median(offline_times)
    table = []
    for size in CHUNKS:
        latencies = rows[size]["latencies"]
        total = statistics.median(rows[size]["totals"])
        table.append({
            "chunk_frames": size, "chunk_ms": round(size * model.frame_shift * 1000),
            "latency_ms_median": 1000 * statistics.median(latencies),
            "latency_ms_p95": 1000 * percentile(latencies, 95),
            "latency_ms_max": 1000 * max(latencies),
            "stream_seconds": total, "offline_seconds": offline_median,
            "stream_over_offline": total / offline_median,
            "finish_equals_offline": rows[size]["same"]})
    live = live_audio(model, decoder, args.rounds)
    result = {"audio_seconds": audio, "utterances": len(utterances), "rounds": args.rounds,
              "graph_states": graph.info["fst_counts"]["HCLG"]["states"], "table": table,
              "live_audio": live, "sample": sample, "machine": machine_info(),
              "date": time.strftime("%Y-%m-%d %H:%M")}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "results.json").write_text(json.dumps(result, indent=2))
    lines = [f"# Streaming latency ({result['date']})", "",
             f"{len(utterances)} bundled recordings, {audio:.1f} s of audio, demo graph "
             f"({result['graph_states']:,} states), beam 16, median of {args.rounds} interleaved "
             f"rounds; decoder time only.", "",
             "| chunk | latency per chunk: median / p95 / max | stream total | offline | "
             "stream / offline | finish() = offline |", "|---|---|---|---|---|---|"]
    for row in table:
        lines.append(f"| {row['chunk_frames']} frames ({row['chunk_ms']} ms) | "
                     f"{row['latency_ms_median']:.2f} / {row['latency_ms_p95']:.2f} / "
                     f"{row['latency_ms_max']:.2f} ms | {row['stream_seconds']:.3f} s | "
                     f"{row['offline_seconds']:.3f} s | {row['stream_over_offline']:.2f} | "
                     f"{'yes' if row['finish_equals_offline'] else 'NO'} |")
    lines += ["", "Live audio (acoustic model's EmissionStream + decoder stream + partial, per "
              f"chunk of audio; the model's look-ahead delays each frame by "
              f"{live['lookahead_seconds']:.1f} s). Offline WER vs the references: "
              f"{live['wer_offline']:.1f} %.", "",
              "| chunk | time per chunk: median / p95 / max | stream total | offline total "
              "(AM + decode) | WER stream vs offline | WER stream vs references |",
              "|---|---|---|---|---|---|"]
    for row in live["table"]:
        lines.append(f"| {row['chunk_ms']} ms | {row['latency_ms_median']:.1f} / "
                     f"{row['latency_ms_p95']:.1f} / {row['latency_ms_max']:.1f} ms | "
                     f"{row['stream_seconds']:.2f} s | {row['offline_seconds']:.2f} s | "
                     f"{row['wer_stream_vs_offline']:.1f} % | {row['wer_stream']:.1f} % |")
    lines += ["", f"Machine: {result['machine']}"]
    (HERE / "results" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nPartials of {sample['utterance']} (300 ms chunks):")
    for text in sample["partials"]:
        print(f"  {text}")
    print(f"  final: {sample['final']}")


if __name__ == "__main__":
    main()
