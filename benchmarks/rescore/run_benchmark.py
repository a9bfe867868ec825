#!/usr/bin/env python3
"""LM rescoring: decode with a small LM, rescore the n-best lists or lattices with the full one.

Held-out sentences (corpus/sentences: medical and legal, those whose words the bundled 3-gram LM
knows) become simulated CTC emissions over the reference AM's char tokens (noisy enough that the
LM matters). Three systems on the same emissions:

- small:    the graph of the bundled LM cut to its 1- and 2-grams, nbest N
- rescored: small's n-best lists rescored with the full 3-gram (pywfst.rescore.Rescorer: G's
            cost out, kenlm's in)
- small lattice B: the same graph, 1-best with a full lattice (lattice=True, lattice_beam B for
            each B of --lattice-beams)
- lattice rescored B: those lattices rescored with the full 3-gram (expanded with both LMs'
            states, every path changed by its own LM costs)
- full:     the graph of the full 3-gram LM, decoded directly

Reported: WER of each, the part of the small-to-full WER gap that rescoring recovers, and times
(medians of interleaved rounds; rescoring without loading the LM, which is reported apart) with
rescoring's time as a share of its small decode's time. Graphs are built once into the graph
cache.

    python benchmarks/rescore/run_benchmark.py [--sentences 150] [--nbest 20]
        [--lattice-beams 4,6,8] [--rounds 3]

Writes results/results.{json,md}.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import pywfst
from pywfst.am import AcousticModel
from pywfst.graph import build_graph
from pywfst.graph.cache import cached_graph
from pywfst.metrics import error_rate
from pywfst.rescoring import Rescorer
from pywfst.synthetic import simulate_ctc_emissions

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FULL_LM = REPO / "pywfst" / "data" / "demo" / "lm.arpa.gz"


def bigram_cut(full: Path, out: Path) -> Path:
    """The ARPA without its 3-grams and the 2-grams' backoff weights: an order-2 model."""
    with gzip.open(full, "rt", encoding="utf-8") as source, open(out, "w") as target:
        section = None
        for line in source:
            stripped = line.strip()
            if stripped.startswith("ngram 3="):
                continue
            if stripped.startswith("\\"):
                section = stripped
                if section == "\\3-grams:":
                    continue
            elif section == "\\3-grams:":
                continue
            elif section == "\\2-grams:" and len(stripped.split()) == 4:
                line = "\t".join(stripped.split()[:3]) + "\n"  # the highest order: no backoff
            target.write(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=150)
    parser.add_argument("--nbest", type=int, default=20)
    parser.add_argument("--lattice-beams", default="4,6,8")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peak", type=float, default=3.0)
    parser.add_argument("--noise", type=float, default=1.5)
    args = parser.parse_args()

    model = AcousticModel.load()
    work = HERE / "work"
    work.mkdir(exist_ok=True)
    tokens = model.write_tokens(work / "tokens.txt")
    small_lm = bigram_cut(FULL_LM, work / "bigram.arpa")
    options = dict(spell=True, word_boundary="|", boundary_mandatory=False)
    graphs = {}
    for name, lm in (("small", small_lm), ("full", FULL_LM)):
        graphs[name], _ = cached_graph(f"rescore-{name}", [tokens, lm], options, lambda out, lm=lm:
                                       build_graph(tokens, out, lm=lm, progress=False, **options))
    vocabulary = set(graphs["full"].words.to_symbol.values())
    sentences = []
    for name in ("medical.txt", "legal.txt"):
        for line in (REPO / "corpus" / "sentences" / name).read_text().splitlines():
            words = line.lower().split()
            if words and all(w in vocabulary for w in words):
                sentences.append(words)
    rng = np.random.default_rng(7)
    sentences = [sentences[i] for i in sorted(rng.choice(len(sentences), min(args.sentences,
                                                                             len(sentences)),
                                                         replace=False))]
    table = {token: index for index, token in enumerate(model.tokens)}
    emissions = []
    for words in sentences:
        ids = [t for w in words for t in [table[c] for c in w] + [table["|"]]]
        emissions.append(simulate_ctc_emissions(ids, len(table), rng, peak=args.peak,
                                                noise=args.noise))

    started = time.perf_counter()
    rescorer = Rescorer(graphs["small"], FULL_LM)
    load_seconds = time.perf_counter() - started
    lattice_beams = [float(b) for b in args.lattice_beams.split(",")]
    decoders = {"small": pywfst.Decoder(graphs["small"], nbest=args.nbest, num_threads=1)}
    rescored_from = {"rescored": "small"}
    labels = {"small": f"small: bigram graph, nbest {args.nbest}",
              "rescored": "its n-best rescored with the 3-gram (kenlm)"}
    for beam in lattice_beams:
        decoders[f"small lattice {beam:g}"] = pywfst.Decoder(
            graphs["small"], lattice=True, lattice_beam=beam, num_threads=1)
        rescored_from[f"lattice rescored {beam:g}"] = f"small lattice {beam:g}"
        labels[f"small lattice {beam:g}"] = f"small: bigram graph, lattice (beam {beam:g})"
        labels[f"lattice rescored {beam:g}"] = "its lattice rescored with the 3-gram (kenlm)"
    decoders["full"] = pywfst.Decoder(graphs["full"], num_threads=1)
    labels["full"] = "full: 3-gram graph, 1-best"
    seconds = {name: [] for name in list(decoders) + list(rescored_from)}
    outputs = {}
    for _ in range(args.rounds):  # interleaved rounds; rescoring starts from a cold cache
        for name, decoder in decoders.items():
            start = time.perf_counter()
            outputs[name] = [decoder.decode(e) for e in emissions]
            seconds[name].append(time.perf_counter() - start)
        for name, source in rescored_from.items():
            rescorer = Rescorer(graphs["small"], FULL_LM)  # cold: nothing remembered
            start = time.perf_counter()
            outputs[name] = [rescorer(r) for r in outputs[source]]
            seconds[name].append(time.perf_counter() - start)
    references = [" ".join(s) for s in sentences]
    wer = {name: error_rate(list(zip(references, [r.text for r in results])))
           for name, results in outputs.items()}
    median = {k: statistics.median(v) for k, v in seconds.items()}
    # the gap between each small decode and the full graph's
    recovered = {name: ((wer[source] - wer[name]) / (wer[source] - wer["full"])
                        if wer[source] > wer["full"] else float("nan"))
                 for name, source in rescored_from.items()}
    share = {name: median[name] / median[source] for name, source in rescored_from.items()}
    results = {"machine": f"{platform.machine()}, {platform.python_version()}, "
                          f"{len(os.sched_getaffinity(0))} cores",
               "sentences": len(sentences), "nbest": args.nbest,
               "lattice_beams": lattice_beams, "peak": args.peak, "noise": args.noise,
               "rounds": args.rounds, "wer": wer, "gap_recovered": recovered,
               "median_seconds": median, "lm_load_seconds": load_seconds,
               "rescore_share_of_small_decode": share}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"{len(sentences)} held-out sentences, simulated emissions (peak {args.peak}, "
             f"noise {args.noise}), one thread, medians of {args.rounds} interleaved rounds.", "",
             "| system | WER (%) | seconds |", "|---|---:|---:|"]
    for name, label in labels.items():
        extra = "+" if name in rescored_from else ""
        lines.append(f"| {label} | {wer[name]:.2f} | {extra}{median[name]:.2f} |")
    lines.append("")
    for name, source in rescored_from.items():
        gap = (f"gap recovered: {100 * recovered[name]:.0f} %" if wer[source] > wer["full"]
               else "no gap: the full graph is no better here")
        lines.append(f"{name}: {wer[source]:.2f} -> {wer[name]:.2f} % WER (full graph "
                     f"{wer['full']:.2f}; {gap}) at {100 * share[name]:.0f} % of its small "
                     f"decode's time.")
    lines.append(f"(Loading the 3-gram: {load_seconds:.2f} s, once.)")
    (HERE / "results" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
