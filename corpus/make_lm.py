#!/usr/bin/env python3
"""Estimate the corpus 3-gram LM (kaldingram: Kneser-Ney, then relative-entropy pruning).

Vocabulary: words seen at least --min-count times in the LM text, plus every word of the
medical and legal train sentences (with --no-domain-vocabulary, the LM text's words only: the
baseline of benchmarks/jargon must not learn domain words from them). LM lines are split at
out-of-vocabulary words (no <unk>).

    python corpus/make_lm.py                         # corpus/work/text/lm_text.txt -> corpus/work/lm/
    python corpus/make_lm.py --text corpus/work/text/general_lm_text.txt --out corpus/work/lm_general \
        --no-domain-vocabulary
"""
from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def vocabulary(lines: list[list[str]], train_tsv: Path | None, min_count: int) -> set[str]:
    """Words seen ``min_count`` times, plus the domain train sentences' words (unless no
    ``train_tsv``)."""
    counts = collections.Counter(w for words in lines for w in words)
    vocab = {w for w, c in counts.items() if c >= min_count}
    for row in (train_tsv.read_text().splitlines() if train_tsv else []):
        _, domain, sentence = row.split("\t")
        if domain != "general":
            vocab.update(sentence.split())
    return vocab


def in_vocabulary_segments(lines: list[list[str]], vocab: set[str]):
    """Each line cut at its out-of-vocabulary words into the runs of known words."""
    for words in lines:
        segment = []
        for word in words + [None]:
            if word in vocab:
                segment.append(word)
            elif segment:
                yield segment
                segment = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=Path, default=HERE / "work" / "text" / "lm_text.txt")
    parser.add_argument("--train", type=Path, default=HERE / "work" / "text" / "train.tsv")
    parser.add_argument("--out", type=Path, default=HERE / "work" / "lm")
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--prune", type=float, default=1e-7)
    parser.add_argument("--no-domain-vocabulary", action="store_true",
                        help="do not add the words of the domain train sentences (--train)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [line.split() for line in args.text.read_text().splitlines()]
    vocab = vocabulary(lines, None if args.no_domain_vocabulary else args.train, args.min_count)
    with open(args.out / "lm_text.txt", "w") as f:
        f.writelines(" ".join(s) + "\n" for s in in_vocabulary_segments(lines, vocab))
    (args.out / "vocab.txt").write_text("\n".join(sorted(vocab)) + "\n")
    kaldingram = shutil.which("kaldingram") or str(Path(sys.executable).parent / "kaldingram")
    full = args.out / "lm_full.arpa"
    for command in ([kaldingram, "train", "--ngram-order", "3", "--text",
                     str(args.out / "lm_text.txt"), "--lm", str(full)],
                    [kaldingram, "prune", "--threshold", str(args.prune), "--lm", str(full),
                     "--write-lm", str(args.out / "lm.arpa")]):
        subprocess.run(command, check=True, capture_output=True)
    full.unlink()
    counts = [l for l in (args.out / "lm.arpa").read_text().splitlines()[:6] if l.startswith("ngram")]
    print(f"vocabulary {len(vocab)} words; {', '.join(counts)}")


if __name__ == "__main__":
    main()
