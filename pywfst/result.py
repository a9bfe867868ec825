"""Result: what decoding one utterance gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List


@dataclass(frozen=True)
class Result:
    words: List[str]
    word_ids: List[int]
    word_frames: List[int]  # frame at which the search output each word
    cost: float  # total cost of the best path: graph + acoustic (-log scores, scaled)
    acoustic_cost: float
    graph_cost: float
    reached_final: bool  # False: no final state survived; this is the best partial path
    num_frames: int
    frame_shift: float = field(default=0.04, repr=False)  # seconds per frame

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def score(self) -> float:
        """Log-score of the best path (higher is better): the negated cost."""
        return -self.cost

    @property
    def word_times(self) -> List[float]:
        """Seconds at which each word was output (word_frames x frame_shift)."""
        return [frame * self.frame_shift for frame in self.word_frames]
