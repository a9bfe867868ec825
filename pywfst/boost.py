"""Run-time phrase boosting: favour (or penalise) words and phrases per utterance, in the search.

    boost = pywfst.PhraseBoost(graph, {"atrial fibrillation": 6.0, "metoprolol": 4.0})
    decoder.decode(emissions, boost=boost)            # prepared once, reused
    decoder.decode(emissions, boost=["metoprolol"])   # compiled for this call (default weight)

A phrase's weight is subtracted from the cost (in the decoder's cost units: scaled -log scores
plus graph costs) of a path that completes it; negative weights penalise. A partial match is paid
word by word and taken back when the phrase is abandoned (see csrc/decoder/phrase_boost.h).
"""

from __future__ import annotations

import math
from typing import Iterable, List, Mapping, Tuple, Union

from . import _core
from .graph import Graph

DEFAULT_WEIGHT = 5.0
PhraseSpec = Union[Mapping[str, float], Iterable[Union[str, Tuple[str, float]]]]


def _entries(phrases: PhraseSpec, weight: float) -> List[Tuple[str, float]]:
    if isinstance(phrases, Mapping):
        return [(str(text), float(w)) for text, w in phrases.items()]
    if isinstance(phrases, str):
        raise TypeError("boost: give a list of phrases (or a mapping phrase -> weight), not a string")
    entries = []
    for item in phrases:
        if isinstance(item, str):
            entries.append((item, float(weight)))
        else:
            text, item_weight = item
            entries.append((str(text), float(item_weight)))
    return entries


class PhraseBoost:
    """Phrases of a graph's words with weights, compiled into the native automaton.

    Immutable; build it once and pass it to any number of decode calls (and threads).
    Unknown words, empty phrases and non-finite weights raise ValueError naming the phrase.
    """

    def __init__(self, graph: Graph, phrases: PhraseSpec, weight: float = DEFAULT_WEIGHT):
        self.phrases = _entries(phrases, weight)
        converted = []
        for index, (text, phrase_weight) in enumerate(self.phrases):
            words = text.split()
            if not words:
                raise ValueError(f"boost: phrase {index} is empty")
            if not math.isfinite(phrase_weight):
                raise ValueError(f"boost: phrase {text!r} has weight {phrase_weight}; must be finite")
            unknown = [w for w in words if w not in graph.words]
            if unknown:
                raise ValueError(f"boost: phrase {text!r}: {unknown[0]!r} is not a word of the graph "
                                 f"({graph.path / 'words.txt'})")
            converted.append(([graph.words[w] for w in words], phrase_weight))
        self.graph_path = graph.path
        self.native = _core.PhraseBoost(converted)

    @property
    def num_phrases(self) -> int:
        return self.native.num_phrases

    def __repr__(self) -> str:
        return f"PhraseBoost({self.num_phrases} phrases for {self.graph_path})"
