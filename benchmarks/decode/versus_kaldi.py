#!/usr/bin/env python3
"""pywfst against Kaldi's FasterDecoder at one beam, in one process, rounds interleaved: the quick
check of a search change (run_benchmark.py is the full comparison, one process per system).

    python benchmarks/decode/versus_kaldi.py --beam 8 [--rounds 7] [--limit 500]

Uses run_benchmark.py's data and graph (work/data, work/graph_ctc); min_active 20, max_active 7000,
acoustic scale 1.25 as its Kaldi-option rows. The two take turns of 10 utterances (--block). Prints
the median decode seconds of each, the median of the rounds' ratios, and on how many utterances the
1-best words agree in the first round. Kaldi's FasterDecoder is reused, as a user reuses it, and
its result can depend on what it decoded before (its token hash only grows, and the order it
expands tokens in follows the hash's size, which at small beams moves the running cutoff): the
utterances whose Kaldi 1-best changed between rounds are counted.
"""
from __future__ import annotations

import argparse
import statistics
import time
import types
from pathlib import Path

import paired
import worker

WORK = Path(__file__).resolve().parent / "work"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beam", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--limit", type=int, default=500, help="test utterances")
    parser.add_argument("--block", type=int, default=10, help="utterances per turn")
    args = parser.parse_args()
    utterances, _ = worker.load_split(str(WORK / "data"), "test", args.limit)
    paths = types.SimpleNamespace(graph=str(WORK / "graph_ctc"), data=str(WORK / "data"))
    params = {"beam": args.beam, "max_active": 7000, "min_active": 20, "acoustic_scale": 1.25}
    systems, keep = {}, []
    for name, setup in (("pywfst", worker.setup_pywfst), ("kaldi", worker.setup_kaldi)):
        decode, extra = setup(paths, params)
        keep.append(extra)  # the graph and decoder objects the closure needs alive
        inputs = [extra.get("prepare", lambda e: e)(u) for u in utterances]  # untimed, as there
        for item in inputs[:worker.WARMUP_UTTERANCES]:
            decode(item)
        systems[name] = (decode, inputs)
    def timed(decode, inputs):
        def run(first, last):
            start = time.perf_counter()
            outputs = [decode(item) for item in inputs[first:last]]
            return time.perf_counter() - start, [output["word_ids"] for output in outputs]
        return run

    names = list(systems)
    seconds, turns = paired.take_turns([timed(*systems[name]) for name in names],
                                       len(utterances), args.block, args.rounds)
    seconds = dict(zip(names, seconds))
    # per round, per utterance
    words = {name: [[ids for turn in one_round for ids in turn] for one_round in rounds]
             for name, rounds in zip(names, turns)}
    same = sum(a == b for a, b in zip(words["pywfst"][0], words["kaldi"][0]))
    changed = {name: sum(any(r[i] != rounds[0][i] for r in rounds) for i in range(len(utterances)))
               for name, rounds in words.items()}
    pywfst, kaldi = (statistics.median(seconds[n]) for n in ("pywfst", "kaldi"))
    ratio = paired.ratio_summary(seconds["kaldi"], seconds["pywfst"], digits=2)
    print(f"beam {args.beam:g}, {len(utterances)} utterances, {args.rounds} rounds: pywfst "
          f"{pywfst:.3f} s, Kaldi {kaldi:.3f} s (medians), Kaldi / pywfst {ratio}; "
          f"same 1-best words {same}/{len(utterances)} (first round); 1-best changed between "
          f"rounds: pywfst {changed['pywfst']}, Kaldi {changed['kaldi']}")


if __name__ == "__main__":
    main()
