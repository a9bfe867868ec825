#!/usr/bin/env python3
"""Memory per live stream: many streams open at once on one shared graph, as a server holds them.

Opens --streams decoders on benchmarks/decode's graph (work/graph_ctc, run benchmarks/decode
first), feeds each the scores of one test utterance and keeps it open, then reads the growth of
the process's resident memory: pywfst's ``Decoder.stream()`` (accept, no finish) against Kaldi's
FasterDecoder (kaldi-decoder: one decoder per stream, ``init_decoding`` + ``advance_decoding``,
the graph read once and shared). Each system runs in its own process, so neither sees the
other's memory; the graph's own memory is measured before the streams and left out.

    python benchmarks/stream/memory.py [--streams 50] [--beam 16]

Prints a table and writes results/memory.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DECODE = HERE.parent / "decode"


def open_streams(system: str, count: int, beam: float) -> dict:
    """Runs in a child process: the resident memory before and after `count` live streams."""
    import numpy as np

    sys.path.insert(0, str(DECODE))
    import worker

    utterances, _ = worker.load_split(str(DECODE / "work" / "data"), "test", count)
    graph_dir = DECODE / "work" / "graph_ctc"
    if system == "pywfst":
        import pywfst

        graph = pywfst.Graph.load(graph_dir)
        decoder = pywfst.Decoder(graph, beam=beam, acoustic_scale=1.25)
        before = worker.rss_mib()["rss"]
        streams = []
        for emissions in utterances:
            stream = decoder.stream()
            stream.accept(emissions)
            streams.append(stream)
    else:
        import kaldi_decoder
        import kaldifst

        graph = kaldifst.StdVectorFst.read(str(graph_dir / "HCLG.fst"))
        options = kaldi_decoder.FasterDecoderOptions(beam=beam, min_active=200)
        before = worker.rss_mib()["rss"]
        streams = []
        for emissions in utterances:
            stream = kaldi_decoder.FasterDecoder(graph, options)
            stream.init_decoding()
            scaled = np.ascontiguousarray(emissions * 1.25, dtype=np.float32)
            stream.advance_decoding(kaldi_decoder.DecodableCtc(scaled))
            streams.append((stream, scaled))
    after = worker.rss_mib()["rss"]
    return {"streams": len(streams), "graph_and_process_mib": round(before, 1),
            "streams_mib": round(after - before, 1),
            "mib_per_stream": round((after - before) / len(streams), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--beam", type=float, default=16.0)
    parser.add_argument("--child", choices=["pywfst", "kaldi"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(open_streams(args.child, args.streams, args.beam)))
        return
    rows = {}
    for system in ("pywfst", "kaldi"):
        output = subprocess.run([sys.executable, __file__, "--child", system, "--streams",
                                 str(args.streams), "--beam", str(args.beam)],
                                check=True, capture_output=True, text=True).stdout
        rows[system] = json.loads(output.strip().splitlines()[-1])
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "beam": args.beam,
              "machine": f"{platform.processor() or platform.machine()}, {platform.node()}",
              "rows": rows}
    lines = [f"{args.streams} live streams on benchmarks/decode's graph, beam {args.beam:g} "
             f"({report['date']}, {report['machine']}):", "",
             "| system | process + graph MiB | streams MiB | MiB per stream |",
             "|---|---:|---:|---:|"]
    names = {"pywfst": "pywfst Decoder.stream()", "kaldi": "kaldi-decoder FasterDecoder"}
    for system, row in rows.items():
        lines.append(f"| {names[system]} | {row['graph_and_process_mib']} | {row['streams_mib']} "
                     f"| {row['mib_per_stream']} |")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "memory.json").write_text(json.dumps(report, indent=2) + "\n")
    (HERE / "results" / "memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
