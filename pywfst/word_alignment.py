"""Word start and end frames from the best path's frame alignment.

The decoder reports, per frame, the emission column it read and whether it stayed on the same
token (a self-loop). That splits the frames into token occurrences exactly. Determinization may
move a word's output label a few tokens later than the word's first token, so word boundaries
come from matching the words' pronunciations (from the graph directory) against the token
occurrences, with boundary tokens such as '|' allowed between words. Without pronunciations
(a foreign HCLG.fst) the frame where each word was output is used as its start.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

Span = Tuple[int, int]  # first and last frame, inclusive


def token_occurrences(columns: Sequence[int], continues: Sequence[bool], blank_id: int,
                      states_per_token: int = 1) -> List[Tuple[int, int, int]]:
    """(token id, first frame, last frame) of each token the path read. With HMM topologies a
    token's states are columns ``token * states_per_token + k``; a token starts in state 0."""
    occurrences: List[list] = []
    open_token = False
    for frame, (column, same) in enumerate(zip(columns, continues)):
        if column == blank_id:
            open_token = False
            continue
        starts = not same and column % states_per_token == 0
        if starts or not open_token:
            occurrences.append([column // states_per_token, frame, frame])
            open_token = True
        else:
            occurrences[-1][2] = frame
    return [tuple(o) for o in occurrences]  # type: ignore[misc]


def match_words(tokens: Sequence[int], prons: Sequence[FrozenSet[Tuple[int, ...]]],
                optional: Set[int]) -> Optional[List[Tuple[int, int]]]:
    """Segments ``tokens`` into the words' pronunciations in order (first and last token index
    per word), skipping optional tokens between words; None when no segmentation exists."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * len(prons) + 100))

    @lru_cache(maxsize=None)
    def solve(word: int, position: int):
        if word == len(prons):
            rest = tokens[position:]
            return () if all(t in optional for t in rest) else None
        for pron in prons[word]:
            end = position + len(pron)
            if tuple(tokens[position:end]) == pron:
                tail = solve(word + 1, end)
                if tail is not None:
                    return ((position, end - 1),) + tail
        if position < len(tokens) and tokens[position] in optional:
            return solve(word, position + 1)
        return None

    try:
        found = solve(0, 0)
    finally:
        sys.setrecursionlimit(limit)
    return None if found is None else list(found)


def word_spans(word_ids: Sequence[int], word_frames: Sequence[int], columns: Sequence[int],
               continues: Sequence[bool], blank_id: int, states_per_token: int,
               pronunciations: Optional[Dict[int, FrozenSet[Tuple[int, ...]]]],
               optional: Set[int]) -> List[Span]:
    occurrences = token_occurrences(columns, continues, blank_id, states_per_token)
    if pronunciations is not None and all(w in pronunciations for w in word_ids):
        matched = match_words([o[0] for o in occurrences], [pronunciations[w] for w in word_ids],
                              optional)
        if matched is not None:
            return [(occurrences[a][1], occurrences[b][2]) for a, b in matched]
    return _spans_from_output_frames(word_frames, occurrences, len(columns))


def _spans_from_output_frames(word_frames: Sequence[int], occurrences, num_frames: int) -> List[Span]:
    starts = []
    for frame in word_frames:
        later = [o[1] for o in occurrences if o[2] >= frame]  # the token holding or after it
        starts.append(later[0] if later else min(frame, num_frames - 1))
    spans = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else num_frames
        inside = [o[2] for o in occurrences if start <= o[2] < limit]
        spans.append((start, max(inside) if inside else start))
    return spans
