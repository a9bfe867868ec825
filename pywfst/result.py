"""Result: what decoding one utterance gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple


@dataclass(frozen=True)
class Result:
    words: List[str]
    word_ids: List[int]
    word_frames: List[int]  # frame being consumed when the search output each word
    word_start_frames: List[int]  # first frame of each word (first non-blank frame)
    word_end_frames: List[int]  # last frame of each word (inclusive, trailing blanks excluded)
    alignment: List[int]  # emission column (token id) of the best path at each frame
    cost: float  # total cost of the best path: graph + acoustic (-log scores, scaled)
    acoustic_cost: float
    graph_cost: float
    reached_final: bool  # False: no final state survived; this is the best partial path
    num_frames: int
    frame_shift: float = field(default=0.04, repr=False)  # seconds per frame
    # Distinct word sequences, best first (nbest[0] is this result); [] unless nbest > 1 was asked.
    nbest: List["Result"] = field(default_factory=list, repr=False)

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
                for start, end in zip(self.word_start_frames, self.word_end_frames)]

