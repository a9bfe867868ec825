"""Streaming: decode an utterance as its scores arrive, with partial results and endpoints.

    stream = decoder.stream()
    for chunk in chunks:                     # [t, V] scores of any size, as the AM makes them
        stream.accept(chunk)
        print(stream.partial().text)         # the words so far (cheap: no alignment)
        if stream.endpoint():                # Kaldi's endpoint rules
            result = stream.finish()         # a Result, and the stream starts the next utterance

``finish()`` gives exactly the Result that ``decoder.decode`` of the utterance's concatenated
scores gives: the same search runs frame by frame, keeping its tokens between chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from . import _core
from .result import Result


@dataclass(frozen=True)
class EndpointRule:
    """One of Kaldi's endpoint rules (online-endpoint.h): the utterance ends when the cheapest
    path so far has at least ``min_trailing_silence`` seconds of silence (blank, or the optional
    word boundary) at its end, costs at most ``max_relative_cost`` more than it would to stop in a
    final state now, is at least ``min_utterance_length`` seconds long, and (when
    ``must_contain_nonsilence``) has read something other than silence."""
    must_contain_nonsilence: bool
    min_trailing_silence: float
    max_relative_cost: float
    min_utterance_length: float

    def applies(self, trailing_silence: float, contains_nonsilence: bool, relative_cost: float,
                utterance_length: float) -> bool:
        return ((contains_nonsilence or not self.must_contain_nonsilence)
                and trailing_silence >= self.min_trailing_silence
                and relative_cost <= self.max_relative_cost
                and utterance_length >= self.min_utterance_length)


# Kaldi's defaults, rules 1 to 5.
KALDI_ENDPOINT_RULES: Tuple[EndpointRule, ...] = (
    EndpointRule(False, 5.0, math.inf, 0.0),  # 5 s of silence, even if nothing was said
    EndpointRule(True, 0.5, 2.0, 0.0),        # 0.5 s of silence after a likely ending
    EndpointRule(True, 1.0, 8.0, 0.0),        # 1 s after a less likely one
    EndpointRule(True, 2.0, math.inf, 0.0),   # 2 s after anything
    EndpointRule(False, 0.0, math.inf, 20.0),  # 20 s of utterance
)


@dataclass(frozen=True)
class Partial:
    """The words of the cheapest path so far (it may still change)."""
    words: List[str]
    num_frames: int

    @property
    def text(self) -> str:
        return " ".join(self.words)


class Stream:
    """One utterance after another, decoded chunk by chunk; made by :meth:`Decoder.stream`.

    Streams run the CPU search (with the decoder's options, boost and class slots as they were
    when the stream was made). ``silence_tokens``: token ids that count as silence for the
    endpoint rules (default: the blank and an optional word-boundary token such as '|').
    One call at a time per stream; make one stream per audio source.
    """

    def __init__(self, decoder, boost=None, endpoint_rules: Sequence[EndpointRule] =
                 KALDI_ENDPOINT_RULES, silence_tokens: Optional[Sequence[int]] = None):
        self._decoder = decoder
        self._boost = decoder._native_boost(boost)
        self._classes = decoder._classes
        self.endpoint_rules = tuple(endpoint_rules)
        graph = decoder.graph
        if silence_tokens is None:
            silence_tokens = ([graph.blank_id] if graph.blank_id >= 0 else []) + sorted(
                graph.optional_token_ids)
        self._silence = [int(t) + 1 for t in silence_tokens]  # input labels
        self._native = None  # made by the first chunk, which fixes the column count

    @property
    def num_frames(self) -> int:
        """Frames of the current utterance decoded so far."""
        return 0 if self._native is None else self._native.frames_decoded

    def accept(self, chunk) -> None:
        """Decodes a [t, V] chunk of scores (numpy or CPU torch; t may be 0). A chunk with NaN or
        +inf is refused whole (ValueError naming the frame in the utterance); the stream goes
        on."""
        from .decoder import as_score_array

        scores = as_score_array(chunk, "chunk", allow_empty=True)
        self._decoder._check_columns(scores.shape[-1], "chunk")
        if self._native is None:
            d = self._decoder
            self._native = _core.DecoderStream(
                d.graph.native, d.options, scores.shape[1], boost=self._boost,
                classes=self._classes.native, what="utterance", **d._transform())
        self._native.accept(scores, "utterance")

    def partial(self) -> Partial:
        """The words of the cheapest path so far (no final weights)."""
        if self._native is None:
            return Partial([], 0)
        words = self._classes.words(self._native.partial_words())
        return Partial(words, self._native.frames_decoded)

    def endpoint(self) -> bool:
        """True when one of the endpoint rules says the utterance has ended."""
        if self._native is None or self._native.frames_decoded == 0:
            return False
        trailing, nonsilence, relative_cost = self._native.endpoint(self._silence)
        shift = self._decoder.frame_shift
        length = self._native.frames_decoded * shift
        return any(rule.applies(trailing * shift, nonsilence, relative_cost, length)
                   for rule in self.endpoint_rules)

    def finish(self) -> Result:
        """The utterance's Result (as ``decoder.decode`` of all its scores); the stream then
        starts the next utterance."""
        if self._native is None or self._native.frames_decoded == 0:
            raise ValueError("finish: no frames were accepted since the utterance started")
        return self._decoder._result(self._native.finish(), self._classes)
