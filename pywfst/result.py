"""Result: what decoding one utterance gives back."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

if TYPE_CHECKING:
    from .lattice import Alternative, Lattice

Span = Tuple[int, int]
# The keys of Result.to_dict(), in order.
RECORD_FIELDS = ("text", "cost", "acoustic_cost", "graph_cost", "reached_final", "num_frames",
                 "words")


@dataclass(frozen=True)
class Result:
    words: List[str]
    word_ids: List[int]
    word_frames: List[int]  # frame being consumed when the search output each word
    alignment: List[int]  # emission column (token id) of the best path at each frame
    cost: float  # total cost of the best path: graph + acoustic (-log scores, scaled) + boost
    acoustic_cost: float
    graph_cost: float
    reached_final: bool  # False: no final state survived; this is the best partial path
    num_frames: int
    frame_shift: float = field(default=0.04, repr=False)  # seconds per frame
    boost_cost: float = 0.0  # phrase boosting's part of the cost (negative: bonuses)
    # Distinct word sequences, best first (nbest[0] is this result); [] unless nbest > 1 was asked.
    nbest: List["Result"] = field(default_factory=list, repr=False)
    # Finds each word's (first, last) frame; called once, on first use of the word times.
    locate_words: Optional[Callable[[], List[Span]]] = field(default=None, repr=False,
                                                             compare=False)
    # With Decoder(lattice=True): determinizes the paths the search kept (on first use).
    make_lattice: Optional[Callable[[], "Lattice"]] = field(default=None, repr=False,
                                                            compare=False)

    @cached_property
    def word_spans(self) -> List[Span]:
        """(first frame, last frame) of each word, the last one included."""
        return self.locate_words() if self.locate_words is not None else []

    @property
    def word_start_frames(self) -> List[int]:
        return [start for start, _ in self.word_spans]

    @property
    def word_end_frames(self) -> List[int]:
        return [end for _, end in self.word_spans]

    def __getstate__(self) -> dict:
        # Pickles the word spans and the lattice themselves rather than what computes them.
        state = dict(self.__dict__, locate_words=None, make_lattice=None)
        state["word_spans"] = self.word_spans
        if self.make_lattice is not None:
            state["lattice"] = self.lattice
        return state

    @cached_property
    def lattice(self) -> "Lattice":
        """The determinized word lattice (pywfst.lattice): of every path the search kept within
        lattice_beam with ``lattice=True``, else of the n-best list (with nbest=1, the best path
        alone)."""
        from .lattice import Lattice

        if self.make_lattice is not None:
            return self.make_lattice()
        return Lattice.from_hypotheses(self.nbest or [self])

    @property
    def has_full_lattice(self) -> bool:
        """The decoder kept every path within lattice_beam (``lattice=True``; also once
        unpickled), rather than an n-best list or the best path alone."""
        kept = self.__dict__.get("lattice")
        return self.make_lattice is not None or (kept is not None and kept.beam is not None)

    @cached_property
    def alternatives(self) -> List["Alternative"]:
        """The word sequences the decoder weighed against this one (word ids, cost), this one
        first: the n-best list, else the lattice's cheapest paths, else this result alone."""
        from .lattice import Alternative, LATTICE_ALTERNATIVES

        if self.nbest:
            return [Alternative(h.word_ids, h.cost) for h in self.nbest]
        others = []
        if self.has_full_lattice:
            others = [Alternative(path.word_ids, path.cost) for path in
                      self.lattice.nbest(LATTICE_ALTERNATIVES) if path.word_ids != self.word_ids]
        return [Alternative(self.word_ids, self.cost)] + others

    @cached_property
    def confidences(self) -> Optional[List[float]]:
        """Per word: its posterior over :attr:`alternatives`, in [0, 1] (None unless the decoder
        had nbest > 1 or lattice=True: one hypothesis says nothing about doubt)."""
        from .lattice import word_confidences

        if not self.nbest and not self.has_full_lattice:
            return None
        return word_confidences(self.alternatives)

    @cached_property
    def mbr(self) -> "Result":
        """The n-best hypothesis with the least expected word errors (itself with nbest=1),
        carrying the same n-best list with itself first, so that its :attr:`confidences` are
        its words' posteriors over that list (n-best only: a lattice's MBR path is not yet
        computed, so with lattice=True this is the result itself)."""
        from .lattice import minimum_bayes_risk

        if not self.nbest:
            return self
        best = minimum_bayes_risk(self.nbest)
        return replace(best, nbest=[best] + [h for h in self.nbest if h is not best])

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def score(self) -> float:
        """Log-score of the best path (higher is better): the negated cost."""
        return -self.cost

    @property
    def word_times(self) -> List[Tuple[float, float]]:
        """(start, end) seconds of each word: frames x frame_shift, the end frame included."""
        return [(start * self.frame_shift, (end + 1) * self.frame_shift)
                for start, end in self.word_spans]

    def to_dict(self, confidences: Optional[List[float]] = None) -> dict:
        """What ``pywfst decode --format json`` prints (without the utterance id): text, costs,
        and each word with its start and end in seconds, and its confidence (``confidences``,
        e.g. calibrated ones; else :attr:`confidences` when there are alternatives)."""
        confidences = confidences or self.confidences or [None] * len(self.words)
        words = []
        for word, (start, end), confidence in zip(self.words, self.word_times, confidences):
            words.append({"word": word, "start": round(start, 3), "end": round(end, 3)})
            if confidence is not None:
                words[-1]["confidence"] = round(confidence, 4)
        return dict(zip(RECORD_FIELDS, (self.text, self.cost, self.acoustic_cost, self.graph_cost,
                                        self.reached_final, self.num_frames, words)))

