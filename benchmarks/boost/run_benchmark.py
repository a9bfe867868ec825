#!/usr/bin/env python3
"""Decode-time overhead of run-time phrase boosting, with 1,000 and 100,000 phrases.

Uses benchmarks/decode's graph and simulated test emissions (run benchmarks/decode/setup.sh and
prepare_data.py, and its run_benchmark.py once to build work/graph_ctc). Phrases are random
2-3 word sequences of the graph's vocabulary (so partial matches start everywhere and are taken
back), plus --matching pieces (1-3 words) of the reference sentences, so phrases complete.
Rounds interleave the configurations (none, 1k, 100k, each with 4, 2 and 1 boost nodes per
state) in one process, in blocks of 10 utterances (--block). The table gives median seconds per
pass, the median over rounds of the ratio to no boosting in the same round, and the WER against
the references (the matching phrases make boosting help). The boost automaton is built once per
configuration (its build time is reported apart), as a user would reuse a prepared PhraseBoost.

    python benchmarks/boost/run_benchmark.py [--rounds 5] [--limit 300]

With --jargon the set is realistic instead: benchmarks/jargon's build-0.05 graph (run that
benchmark first), the reference acoustic model's emissions of its test set, and every term of
the two shipped lexicons (8,556) as phrases with weight 5; results go to results/*_jargon.*.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from pathlib import Path

import numpy as np

import pywfst
from pywfst.metrics import error_rate

HERE = Path(__file__).resolve().parent
DECODE = HERE.parent / "decode" / "work"
JARGON = HERE.parent / "jargon" / "work"
REPO = HERE.parent.parent
JARGON_WEIGHT = 5.0


def random_phrases(words: list[str], references: list[str], count: int, matching: int,
                   rng: random.Random) -> dict[str, float]:
    phrases: dict[str, float] = {}
    while len(phrases) < count:
        if len(phrases) < matching:
            ref = references[rng.randrange(len(references))].split()
            length = min(len(ref), rng.randint(1, 3))
            start = rng.randrange(len(ref) - length + 1)
            text = " ".join(ref[start:start + length])
        else:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(2, 3)))
        phrases[text] = rng.uniform(1.0, 5.0)
    return phrases


def simulated_set(args):
    """benchmarks/decode's graph and simulated test emissions; random phrase sets per size."""
    graph = pywfst.Graph.load(DECODE / "graph_ctc")
    archive = np.load(DECODE / "data" / "test.npz")
    offsets = np.concatenate([[0], np.cumsum(archive["lengths"])])[: args.limit + 1]
    utterances = [np.ascontiguousarray(archive["emissions"][offsets[i]:offsets[i + 1]])
                  for i in range(len(offsets) - 1)]
    references = json.loads((DECODE / "data" / "test.json").read_text())[: len(utterances)]
    references = [r if isinstance(r, str) else " ".join(r) for r in references]
    words = [w for w in graph.words.to_id if not w.startswith(("#", "<")) and w != "<eps>"]
    rng = random.Random(0)
    phrase_sets = [(size, random_phrases(words, references, size, args.matching, rng))
                   for size in map(int, args.sizes.split(","))]
    return graph, utterances, references, 1.5, phrase_sets  # benchmarks/decode's tuned scale


def jargon_set(args):
    """benchmarks/jargon's build-0.05 graph and model emissions of the test set; the lexicons'
    terms as phrases."""
    from pywfst.graph.jargon import read_jargon_lexicon

    graph = pywfst.Graph.load(JARGON / "graphs" / "build-0.05")
    manifest = REPO / "corpus" / "work" / "audio" / "test.jsonl"
    entries = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    entries = entries[: args.limit]
    with np.load(next((JARGON / "emissions").glob("test-*.npz"))) as archive:
        utterances = [archive[entry["id"]] for entry in entries]
    terms = {" ".join(entry.words): JARGON_WEIGHT
             for path in (REPO / "lexicons" / "medical.txt", REPO / "lexicons" / "legal.txt")
             for entry in read_jargon_lexicon(path)}
    return graph, utterances, [e["text"] for e in entries], 1.0, [(len(terms), terms)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--block", type=int, default=10,
                        help="utterances a configuration decodes in a turn")
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--matching", type=int, default=100,
                        help="phrases taken from the reference sentences")
    parser.add_argument("--nodes", default="4,2,1", help="boost nodes per state to compare")
    parser.add_argument("--jargon", action="store_true",
                        help="the realistic set: jargon graph, model emissions, lexicon terms")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    graph, utterances, references, acoustic_scale, phrase_sets = (
        jargon_set(args) if args.jargon else simulated_set(args))
    node_counts = [int(n) for n in args.nodes.split(",")]
    decoders = {nodes: pywfst.Decoder(graph, acoustic_scale=acoustic_scale,
                                      boost_nodes_per_state=nodes)
                for nodes in node_counts}

    boosts, build_seconds = {"none": (None, decoders[node_counts[0]])}, {}
    for size, phrases in phrase_sets:
        start = time.perf_counter()
        boost = pywfst.PhraseBoost(graph, phrases)
        build_seconds[f"{size} phrases"] = time.perf_counter() - start
        for nodes, decoder in decoders.items():
            name = f"{size} phrases, {nodes} node{'s' if nodes > 1 else ''}/state"
            boosts[name] = (boost, decoder)

    # Interleaved in blocks of utterances, not by pass: this VM has slow spells of seconds,
    # longer than a block but shorter than a pass, and they should fall on every configuration
    # alike. At each step every configuration decodes one block, each a different one (offset by
    # len / configurations, so that none decodes what another has just brought into the cache),
    # and the order of the configurations turns, so that each follows every other as often. A
    # block of 10 utterances keeps a configuration's own data warm, as a pass does (one-utterance
    # turns among seven configurations slowed the unboosted search most: ratios 5 points lower).
    names = list(boosts)
    blocks = [utterances[i:i + args.block] for i in range(0, len(utterances), args.block)]
    stride = max(1, len(blocks) // len(names))
    seconds = {name: [] for name in names}
    texts = {name: [[] for _ in blocks] for name in names}
    for _ in range(args.rounds):
        spent = dict.fromkeys(names, 0.0)
        for step in range(len(blocks)):
            turn = step % len(names)
            for name in names[turn:] + names[:turn]:
                index = (step + names.index(name) * stride) % len(blocks)
                boost, decoder = boosts[name]
                start = time.perf_counter()
                results = [decoder.decode(u, boost=boost) for u in blocks[index]]
                spent[name] += time.perf_counter() - start
                texts[name][index] = [r.text for r in results]
        for name in names:
            seconds[name].append(spent[name])
    texts = {name: [text for block in texts[name] for text in block] for name in names}
    rows = []
    for name in boosts:
        median = statistics.median(seconds[name])
        # Each round's time over the same round's unboosted time: a slow round slows both.
        ratio = statistics.median(a / b for a, b in zip(seconds[name], seconds["none"]))
        changed = sum(a != b for a, b in zip(texts[name], texts["none"]))
        wer = error_rate(list(zip(references, texts[name])))
        rows.append({"config": name, "median_seconds": round(median, 4),
                     "ratio": round(ratio, 3), "wer": round(wer, 2),
                     "seconds": seconds[name],
                     "build_seconds": round(build_seconds.get(name.split(",")[0], 0.0), 4),
                     "utterances_changed": changed})
    report = {"set": "jargon" if args.jargon else "simulated", "matching_phrases": args.matching,
              "machine": f"{platform.processor() or platform.machine()}, {platform.node()}",
              "utterances": len(utterances), "frames": int(sum(len(u) for u in utterances)),
              "rounds": args.rounds, "block": args.block, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    name = "results_jargon" if args.jargon else "results"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["| boosting | median s / pass | ratio to none | WER % | build s "
             "| utterances changed |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['config']} | {r['median_seconds']:.3f} | {r['ratio']:.3f} | {r['wer']:.2f} | "
              f"{r['build_seconds']:.3f} | {r['utterances_changed']} |" for r in rows]
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
