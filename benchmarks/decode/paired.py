"""Two decoders timed in turns, for versus_kaldi.py and versus_build.py.

This VM has slow spells of seconds, longer than a turn of a few utterances but shorter than a
pass: the two sides take turns of `block` utterances, who goes first alternating, so that such a
spell falls on both alike. Each side decodes the utterances in their order, as a user would.
"""
from __future__ import annotations

import statistics
from typing import Any, Callable, List, Sequence, Tuple

# run(first, last): decodes utterances [first, last) and gives (seconds, what it decoded).
Run = Callable[[int, int], Tuple[float, Any]]


def take_turns(sides: Sequence[Run], count: int, block: int, rounds: int):
    """Per side and round, the seconds spent, and what each turn gave (in utterance order)."""
    seconds: List[List[float]] = [[] for _ in sides]
    outputs: List[List[list]] = [[] for _ in sides]
    for _ in range(rounds):
        spent = [0.0] * len(sides)
        turns: List[list] = [[] for _ in sides]
        for turn, first in enumerate(range(0, count, block)):
            for side in range(len(sides)) if turn % 2 == 0 else reversed(range(len(sides))):
                elapsed, output = sides[side](first, min(first + block, count))
                spent[side] += elapsed
                turns[side].append(output)
        for side in range(len(sides)):
            seconds[side].append(spent[side])
            outputs[side].append(turns[side])
    return seconds, outputs


def ratio_summary(numerator: Sequence[float], denominator: Sequence[float], digits: int) -> str:
    """The median over rounds of each round's ratio (a slow round slows both sides of it), and
    the range."""
    ratios = [a / b for a, b in zip(numerator, denominator)]
    return (f"{statistics.median(ratios):.{digits}f} (median of the rounds' ratios, "
            f"{min(ratios):.{digits}f}-{max(ratios):.{digits}f})")
