#!/usr/bin/env python3
"""Word lattices (``Decoder(lattice=True)``) on the reference acoustic model's real emissions.

The nine bundled demo recordings (pywfst/data/demo) go through the reference acoustic model once;
their emissions are decoded on the demo graph (bundled 3-gram LM, its words spelled, '|' after
each word but the last, where it may be left out), without a lattice and with one at several
lattice beams. Reported per lattice beam:
the decoder's time against 1-best decoding (median of --rounds interleaved runs), the lattice's
size (states and arcs per second of audio), how many word sequences it holds (counted up to
1,000), whether it reached its beam within lattice_max_states, the 1-best WER and the lattice's
oracle WER (the path closest to the reference among its 1,000 cheapest: the errors a perfect
rescoring could remove).

Side by side, Kaldi's LatticeSimpleDecoder (kaldi-decoder) on the same graph and emissions, at
the same beam and lattice beam; pywfst then runs with max_active and min_active out of the way
(2^31 - 1 and 0), since Kaldi's simple decoder prunes by the beam alone. Kaldi's time includes its
raw lattice (its determinization is not exposed by kaldi-decoder, so Kaldi's time is a lower
bound against pywfst's, which includes the determinized lattice).

    python benchmarks/lattice/run_benchmark.py [--rounds 5]

Writes results/results.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "graph_build"))
os.environ.setdefault("PYWFST_CACHE", str(HERE / "work" / "cache"))  # the demo graph, kept here

import pywfst  # noqa: E402
from bench_util import machine_info  # noqa: E402
from pywfst.am import AcousticModel  # noqa: E402
from pywfst.cli.demo import bundled_utterances, demo_graph  # noqa: E402
from pywfst.metrics import edit_distance, error_rate  # noqa: E402

LATTICE_BEAMS = (4.0, 6.0, 8.0)
BEAM = 16.0
MAX_PATHS = 1000
UNPRUNED = {"max_active": 2**31 - 1, "min_active": 0}


def timed(decode, emissions):
    start = time.perf_counter()
    outputs = [decode(e) for e in emissions]
    return time.perf_counter() - start, outputs


def kaldi_decoder_of(graph: pywfst.Graph, lattice_beam: float):
    import kaldi_decoder
    import kaldifst

    fst = kaldifst.StdVectorFst.read(str(graph.path / "HCLG.fst"))
    config = kaldi_decoder.LatticeSimpleDecoderConfig(beam=BEAM, lattice_beam=lattice_beam)
    decoder = kaldi_decoder.LatticeSimpleDecoder(fst, config)

    def decode(emissions):
        decoder.decode(kaldi_decoder.DecodableCtc(emissions))
        _, best = decoder.get_best_path()
        _, _, word_ids, _ = kaldifst.get_linear_symbol_sequence(best)
        _, raw = decoder.get_raw_lattice()
        return [int(w) for w in word_ids], raw.num_states
    return decode, (fst, decoder)


def lattice_figures(results, references, audio_seconds: float, lattice_beam: float) -> dict:
    paths = [r.lattice.nbest(MAX_PATHS) for r in results]
    oracle = []
    for reference, found in zip(references, paths):
        words = reference.split()
        closest = min((words_of(path.word_ids) for path in found),
                      key=lambda hypothesis: edit_distance(words, hypothesis))
        oracle.append((reference, " ".join(closest)))
    return {"states_per_second": sum(r.lattice.num_states for r in results) / audio_seconds,
            "arcs_per_second": sum(len(r.lattice.arcs) for r in results) / audio_seconds,
            "median_word_sequences": statistics.median(len(p) for p in paths),
            "reached_beam": sum(r.lattice.beam >= lattice_beam for r in results),
            "oracle_wer": error_rate(oracle)}


_WORDS = {}


def words_of(ids):
    return [_WORDS[i] for i in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    model = AcousticModel.load()
    utterances = bundled_utterances()
    emissions = [model.emissions(path) for path, _ in utterances]
    references = [reference for _, reference in utterances]
    (HERE / "work").mkdir(parents=True, exist_ok=True)
    graph = demo_graph(model, HERE / "work", rebuild=False)
    _WORDS.update({i: graph.word(i) for i in range(len(graph.words))})
    audio_seconds = sum(len(e) for e in emissions) * model.frame_shift

    systems = {"pywfst 1-best": pywfst.Decoder(graph, beam=BEAM).decode}
    beam_of = {}  # lattice beam by system
    for lattice_beam in LATTICE_BEAMS:
        name = f"pywfst lattice {lattice_beam:g}"
        systems[name] = pywfst.Decoder(graph, beam=BEAM, lattice=True,
                                       lattice_beam=lattice_beam).decode
        beam_of[name] = lattice_beam
    kept = []  # Kaldi's decoders hold a reference to their graph: keep both alive
    for lattice_beam in LATTICE_BEAMS:
        name = f"pywfst unpruned lattice {lattice_beam:g}"
        systems[name] = pywfst.Decoder(graph, beam=BEAM, lattice=True, lattice_beam=lattice_beam,
                                       **UNPRUNED).decode
        beam_of[name] = lattice_beam
        decode, keep = kaldi_decoder_of(graph, lattice_beam)
        systems[f"kaldi LatticeSimpleDecoder {lattice_beam:g}"] = decode
        kept.append(keep)

    times = {name: [] for name in systems}
    outputs = {}
    for _ in range(args.rounds):  # interleaved: each round runs every system once
        for name, decode in systems.items():
            seconds, outputs[name] = timed(decode, emissions)
            times[name].append(seconds)
    baseline = statistics.median(times["pywfst 1-best"])
    one_best = [r.word_ids for r in outputs["pywfst 1-best"]]
    rows = []
    for name in systems:
        median = statistics.median(times[name])
        row = {"system": name, "seconds": median, "x_realtime": audio_seconds / median,
               "time_vs_1best": median / baseline}
        if name.startswith("kaldi"):
            row["same_1best_as_pywfst_unpruned"] = sum(
                ids == r.word_ids for (ids, _), r in
                zip(outputs[name], outputs[name.replace("kaldi LatticeSimpleDecoder",
                                                        "pywfst unpruned lattice")]))
        else:
            results = outputs[name]
            row["wer"] = error_rate(list(zip(references, (r.text for r in results))))
            row["same_1best"] = sum(r.word_ids == ids for r, ids in zip(results, one_best))
            if name in beam_of:
                row.update(lattice_figures(results, references, audio_seconds, beam_of[name]))
        rows.append(row)
        print(json.dumps(row))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    report = {"machine": machine_info(), "audio_seconds": audio_seconds, "rounds": args.rounds,
              "utterances": len(emissions), "beam": BEAM, "rows": rows}
    (out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "results.md").write_text(markdown(report))


def markdown(report) -> str:
    lines = [f"Machine: {report['machine']}. {report['utterances']} recordings, "
             f"{report['audio_seconds']:.1f} s of audio, beam {report['beam']:g}, median of "
             f"{report['rounds']} interleaved rounds.", "",
             "| system | time (s) | x realtime | time / 1-best | WER % | oracle WER % | "
             "states / s | arcs / s | word sequences (median, <= 1000) | reached its beam | "
             "same 1-best |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in report["rows"]:
        def get(key, fmt):
            return format(row[key], fmt) if key in row else ""
        same = row.get("same_1best", row.get("same_1best_as_pywfst_unpruned", ""))
        lines.append(f"| {row['system']} | {row['seconds']:.3f} | {row['x_realtime']:.0f} | "
                     f"{row['time_vs_1best']:.2f} | {get('wer', '.1f')} | "
                     f"{get('oracle_wer', '.1f')} | {get('states_per_second', '.0f')} | "
                     f"{get('arcs_per_second', '.0f')} | {get('median_word_sequences', 'g')} | "
                     f"{get('reached_beam', 'd')} | {same} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
