"""Run-time phrase boosting: favour (or penalise) words and phrases per utterance, in the search.

    boost = pywfst.PhraseBoost(graph, {"atrial fibrillation": 6.0, "metoprolol": 4.0})
    decoder.decode(emissions, boost=boost)            # prepared once, reused
    decoder.decode(emissions, boost=["metoprolol"])   # compiled for this call (default weight)

A phrase's weight is subtracted from the cost (in the decoder's cost units: scaled -log scores
plus graph costs) of a path that completes it; negative weights penalise. A partial match is paid
word by word and taken back when the phrase is abandoned (see csrc/decoder/phrase_boost.h).
"""

from __future__ import annotations

import collections.abc
import math
import numbers
import reprlib
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Tuple, Union

from . import _core
from .graph import Graph

DEFAULT_WEIGHT = 5.0
PhraseSpec = Union[Mapping[str, float], Iterable[Union[str, Tuple[str, float]]]]


def finite_number(value) -> Optional[float]:
    """A weight as a float: None unless it is a finite real number (a bool is not a weight)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    return number if math.isfinite(number) else None


def _entries(phrases: PhraseSpec, weight) -> List[Tuple[str, object]]:
    """(phrase, weight) pairs, the weights as given; a TypeError naming what is malformed."""
    if isinstance(phrases, str) or not isinstance(phrases, collections.abc.Iterable):
        got = "a string" if isinstance(phrases, str) else reprlib.repr(phrases)
        raise TypeError(f"boost: give a list of phrases (or a mapping phrase -> weight), not {got}")
    items = phrases.items() if isinstance(phrases, Mapping) else phrases
    entries = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            item = (item, weight)
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(f"boost: phrase {index}: expected a phrase or a (phrase, weight) "
                            f"pair, got {reprlib.repr(item)}")
        if not isinstance(item[0], str):
            raise TypeError(f"boost: phrase {index} is not a string: {reprlib.repr(item[0])}")
        entries.append((item[0], item[1]))
    return entries


class PhraseBoost:
    """Phrases of a graph's words with weights, compiled into the native automaton.

    ``graph``: a :class:`Graph` or the path of a graph directory. Immutable; build it once and pass it to any number of decode calls (and threads).
    Unknown words, empty phrases and non-finite weights raise ValueError naming the phrase.
    """

    def __init__(self, graph: Union[Graph, str, Path], phrases: PhraseSpec,
                 weight: float = DEFAULT_WEIGHT):
        graph = graph if isinstance(graph, Graph) else Graph.load(graph)
        self.phrases: List[Tuple[str, float]] = []
        converted = []
        for index, (text, given_weight) in enumerate(_entries(phrases, weight)):
            words = text.split()
            if not words:
                raise ValueError(f"boost: phrase {index} is empty")
            phrase_weight = finite_number(given_weight)
            if phrase_weight is None:
                raise ValueError(f"boost: phrase {text!r} has weight {reprlib.repr(given_weight)}; "
                                 "must be finite (a real number)")
            unknown = [w for w in words if w not in graph.words]
            if unknown:
                raise ValueError(f"boost: phrase {text!r}: {unknown[0]!r} is not a word of the graph "
                                 f"({graph.path / 'words.txt'})")
            converted.append(([graph.words[w] for w in words], phrase_weight))
            self.phrases.append((text, phrase_weight))
        self.graph_path = graph.path
        self.native = _core.PhraseBoost(converted)

    @property
    def num_phrases(self) -> int:
        return self.native.num_phrases

    def __repr__(self) -> str:
        return f"PhraseBoost({self.num_phrases} phrases for {self.graph_path})"
