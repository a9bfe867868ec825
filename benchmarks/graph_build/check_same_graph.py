#!/usr/bin/env python3
"""Checks that pywfst's HCLG.fst and Kaldi's TLG.fst decode alike: for sentences of the corpus,
the CTC label sequence of their pronunciations (first pronunciation of each word, a blank between
repeated phones) is composed with both graphs, and the best path's cost and words compared.

Kaldi determinizes LG in the log semiring and pywfst in the tropical one, so weights sit on
different arcs, but every complete path should cost the same (up to float rounding).

  python check_same_graph.py --pywfst-graph DIR --kaldi-tlg TLG.fst --work work/ [-n 50]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pywrapfst as fst

HERE = Path(__file__).resolve().parent


def read_table(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = int(parts[1])
    return out


def ctc_labels(words: list, pron: dict, tok: dict, blank: int) -> list:
    labels, prev = [], None
    for w in words:
        for ph in pron[w]:
            t = tok[ph]
            if t == prev:
                labels.append(blank + 1)
            labels.append(t + 1)
            prev = t
    return labels


def linear(labels: list) -> fst.VectorFst:
    f = fst.VectorFst()
    f.add_states(len(labels) + 1)
    f.set_start(0)
    one = fst.Weight.one("tropical")
    for i, lab in enumerate(labels):
        f.add_arc(i, fst.Arc(lab, lab, one, i + 1))
    f.set_final(len(labels))
    return f


def best(acceptor: fst.VectorFst, graph: fst.Fst, id2word: dict):
    c = fst.compose(acceptor, graph)
    if c.num_states() == 0 or c.start() < 0:
        return None, None
    sp = fst.shortestpath(c)
    sp.topsort()
    cost, words, s = 0.0, [], sp.start()
    while True:
        arcs = list(sp.arcs(s))
        if not arcs:
            cost += float(sp.final(s))
            break
        a = arcs[0]
        cost += float(a.weight)
        if a.olabel:
            words.append(id2word.get(a.olabel, str(a.olabel)))
        s = a.nextstate
    return cost, words


def check(pywfst_dir: Path, kaldi_tlg: Path, work: Path, n: int, seed: int, max_words: int) -> dict:
    words_tab = read_table(pywfst_dir / "words.txt")
    id2word = {i: w for w, i in words_tab.items()}
    tok = read_table(work / "tokens.txt")
    blank = tok.get("<blk>", 0)
    pron = {}
    for line in (work / "lexicon.txt").read_text().splitlines():
        w, *phones = line.split()
        pron.setdefault(w, phones)
    sentences = [ln.split() for ln in (work / "corpus.txt").read_text().splitlines()]
    rng = random.Random(seed)
    sample = rng.sample([s for s in sentences if 2 <= len(s) <= max_words], n)
    g1 = fst.Fst.read(str(pywfst_dir / "HCLG.fst"))
    g2 = fst.Fst.read(str(kaldi_tlg))
    g1 = fst.VectorFst(g1) if g1.fst_type() != "vector" else g1
    g2 = fst.VectorFst(g2) if g2.fst_type() != "vector" else g2
    g1.arcsort("ilabel")
    g2.arcsort("ilabel")
    rows, same_cost, same_words, max_diff = [], 0, 0, 0.0
    for s in sample:
        acc = linear(ctc_labels(s, pron, tok, blank))
        c1, w1 = best(acc, g1, id2word)
        c2, w2 = best(acc, g2, id2word)
        ok_cost = c1 is not None and c2 is not None and abs(c1 - c2) <= 1e-3 * max(1.0, abs(c1))
        if c1 is not None and c2 is not None:
            max_diff = max(max_diff, abs(c1 - c2))
        same_cost += ok_cost
        same_words += (w1 == w2)
        rows.append({"text": " ".join(s), "pywfst_cost": c1, "kaldi_cost": c2,
                     "pywfst_words": None if w1 is None else " ".join(w1),
                     "kaldi_words": None if w2 is None else " ".join(w2)})
    return {"sentences": n, "same_best_cost": same_cost, "same_best_words": same_words,
            "max_abs_cost_diff": round(max_diff, 6), "examples": rows[:5],
            "mismatches": [r for r in rows if r["pywfst_words"] != r["kaldi_words"]
                           or r["pywfst_cost"] is None or r["kaldi_cost"] is None
                           or abs(r["pywfst_cost"] - r["kaldi_cost"]) > 1e-3 * max(1.0, abs(r["pywfst_cost"]))][:10]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pywfst-graph", type=Path, required=True, help="pywfst graph dir")
    ap.add_argument("--kaldi-tlg", type=Path, required=True, help="Kaldi's TLG.fst")
    ap.add_argument("--work", type=Path, default=HERE / "work", help="tokens/lexicon/corpus dir")
    ap.add_argument("-n", type=int, default=50, help="sentences (default 50)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-words", type=int, default=12)
    args = ap.parse_args()
    res = check(args.pywfst_graph, args.kaldi_tlg, args.work, args.n, args.seed, args.max_words)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
