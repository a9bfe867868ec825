"""The small real inputs the fuzz seeds and harnesses start from: char tokens, a spelling lexicon,
a bigram ARPA and two tiny graphs built by pywfst (one with a class slot)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from helpers import write_char_tokens, write_spelling_lexicon  # noqa: E402

WORDS = ["a", "cat", "sat", "on", "mat"]
SENTENCE = ["a", "cat", "sat", "on", "a", "mat"]
ARPA = """\\data\\
ngram 1=7
ngram 2=6

\\1-grams:
-0.8\t</s>
-99\t<s>\t-0.3
-0.9\ta\t-0.2
-1.0\tcat\t-0.25
-1.0\tsat\t-0.25
-1.1\ton\t-0.2
-1.1\tmat\t-0.3

\\2-grams:
-0.2\t<s> a
-0.3\ta cat
-0.4\ta mat
-0.2\tcat sat
-0.2\tsat on
-0.3\ton a

\\end\\
"""


def write_inputs(work: Path) -> dict:
    """tokens.txt, lexicon.txt and lm.arpa in ``work``; returns the token ids."""
    ids = write_char_tokens(work / "tokens.txt")
    write_spelling_lexicon(work / "lexicon.txt", WORDS)
    (work / "lm.arpa").write_text(ARPA, encoding="utf-8")
    return ids


def build_graphs(work: Path):
    """(plain graph, graph with the class slot TERM), built from the inputs in ``work``."""
    import pywfst

    plain = pywfst.build_graph(work / "tokens.txt", work / "plain", lexicon=work / "lexicon.txt",
                               word_boundary="|", progress=False)
    slotted = pywfst.build_graph(work / "tokens.txt", work / "slot", lexicon=work / "lexicon.txt",
                                 lm=work / "lm.arpa", word_boundary="|", progress=False,
                                 class_slots=["TERM"])
    return plain, slotted
