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
    # The systems take turns of --block utterances, the first of each turn alternating: this VM
    # has slow spells of seconds, longer than a turn, and they should fall on both alike. Each
    # system decodes the utterances in their order, as a user would.
    names = list(systems)
    seconds = {name: [] for name in names}
    words = {name: [] for name in names}  # per round, per utterance
    for _ in range(args.rounds):
        spent = dict.fromkeys(names, 0.0)
        outputs = {name: [] for name in names}
        for turn, first in enumerate(range(0, len(utterances), args.block)):
            for name in names[turn % 2:] + names[:turn % 2]:
                decode, inputs = systems[name]
                start = time.perf_counter()
                outputs[name] += [decode(item) for item in inputs[first:first + args.block]]
                spent[name] += time.perf_counter() - start
        for name in names:
            seconds[name].append(spent[name])
            words[name].append([output["word_ids"] for output in outputs[name]])
    same = sum(a == b for a, b in zip(words["pywfst"][0], words["kaldi"][0]))
    changed = {name: sum(any(r[i] != rounds[0][i] for r in rounds) for i in range(len(utterances)))
               for name, rounds in words.items()}
    pywfst, kaldi = (statistics.median(seconds[n]) for n in ("pywfst", "kaldi"))
    # Each round's ratio, so that a slow round slows both sides of it.
    ratios = [k / p for k, p in zip(seconds["kaldi"], seconds["pywfst"])]
    ratio = statistics.median(ratios)
    print(f"beam {args.beam:g}, {len(utterances)} utterances, {args.rounds} rounds: pywfst "
          f"{pywfst:.3f} s, Kaldi {kaldi:.3f} s (medians), Kaldi / pywfst {ratio:.2f} (median "
          f"of the rounds' ratios, {min(ratios):.2f}-{max(ratios):.2f}); "
          f"same 1-best words {same}/{len(utterances)} (first round); 1-best changed between "
          f"rounds: pywfst {changed['pywfst']}, Kaldi {changed['kaldi']}")


if __name__ == "__main__":
    main()
