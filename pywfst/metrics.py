"""Word and character error rates by Levenshtein alignment."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple


def edit_distance(reference: Sequence, hypothesis: Sequence) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``hypothesis``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_item in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_item in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ref_item != hyp_item))
        previous = current
    return previous[-1]


def word_errors(reference: str, hypothesis: str) -> Tuple[int, int]:
    """(word errors, reference words)."""
    ref_words = reference.split()
    return edit_distance(ref_words, hypothesis.split()), len(ref_words)


def error_rate(pairs: Sequence[Tuple[str, str]], unit: str = "word") -> float:
    """WER (unit='word') or CER (unit='char', spaces ignored) in percent over (ref, hyp) pairs."""
    errors = total = 0
    for reference, hypothesis in pairs:
        if unit == "word":
            ref, hyp = reference.split(), hypothesis.split()
        else:
            ref, hyp = list(reference.replace(" ", "")), list(hypothesis.replace(" ", ""))
        errors += edit_distance(ref, hyp)
        total += len(ref)
    return 100.0 * errors / max(total, 1)


def align_words(reference: Sequence, hypothesis: Sequence
                ) -> List[Tuple[Optional[int], Optional[int]]]:
    """A Levenshtein alignment as (reference index, hypothesis index) pairs in order, None on
    the side of a deletion or an insertion (matches and substitutions preferred, then
    deletions)."""
    n, m = len(reference), len(hypothesis)
    table = [list(range(m + 1))] + [[i] + [0] * m for i in range(1, n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1,
                              table[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]))
    pairs: List[Tuple[Optional[int], Optional[int]]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and table[i][j] == table[i - 1][j - 1] + (
                reference[i - 1] != hypothesis[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and table[i][j] == table[i - 1][j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]
