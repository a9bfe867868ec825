"""Word start and end frames from the best path's frame alignment.

The decoder reports, per frame, the emission column it read and whether it stayed on the same
token (a self-loop). That splits the frames into token occurrences exactly. Determinization may
move a word's output label a few tokens later than the word's first token, so word boundaries
come from matching the words' pronunciations (from the graph directory) against the token
occurrences, with boundary tokens such as '|' allowed between words. Without pronunciations
(a foreign HCLG.fst) the frame where each word was output is used as its start.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Dict, FrozenSet, Iterator, List, Optional, Sequence, Set, Tuple

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
    per word), skipping optional tokens between words; None when no segmentation exists.

    Depth-first search with an explicit stack (an utterance may hold tens of thousands of words:
    recursion would overflow the C stack). From a (word, position) state it tries the word's
    pronunciations in order, then skipping an optional token; the first segmentation found wins.
    States that failed are remembered, so each is expanded at most once.
    """
    tokens = tuple(tokens)
    num_words = len(prons)
    # only_optional_from[i]: tokens[i:] may all be skipped (what is allowed after the last word)
    only_optional_from = [True] * (len(tokens) + 1)
    for index in range(len(tokens) - 1, -1, -1):
        only_optional_from[index] = only_optional_from[index + 1] and tokens[index] in optional

    def successors(word: int, position: int) -> Iterator[Tuple[int, int]]:
        for pron in prons[word]:
            end = position + len(pron)
            if tokens[position:end] == pron:
                yield word + 1, end
        if position < len(tokens) and tokens[position] in optional:
            yield word, position + 1

    if num_words == 0:
        return [] if only_optional_from[0] else None
    failed: Set[Tuple[int, int]] = set()
    path = [(0, 0, successors(0, 0))]
    while path:
        word, position, pending = path[-1]
        for state in pending:
            if state in failed:
                continue
            if state[0] < num_words:
                path.append((*state, successors(*state)))
                break
            if only_optional_from[state[1]]:
                path.append((*state, iter(())))
                # a step to the next word read tokens[start:end] as the earlier word
                return [(start, end - 1) for (before, start, _), (after, end, _)
                        in zip(path, path[1:]) if after == before + 1]
            failed.add(state)
        else:
            failed.add((word, position))
            path.pop()
    return None


def word_spans(word_ids: Sequence[int], word_frames: Sequence[int], columns: Sequence[int],
               continues: Sequence[bool], blank_id: int, states_per_token: int,
               pronunciations: Optional[Dict[int, FrozenSet[Tuple[int, ...]]]],
               optional: Set[int], final: Set[int] = frozenset()) -> List[Span]:
    """``optional``: tokens that may stand between words; ``final``: tokens that end every word
    but may be left out by the last one."""
    occurrences = token_occurrences(columns, continues, blank_id, states_per_token)
    if pronunciations is not None and all(w in pronunciations for w in word_ids):
        prons = [pronunciations[w] for w in word_ids]
        if prons and final:
            prons[-1] = prons[-1] | {p[:-1] for p in prons[-1] if len(p) > 1 and p[-1] in final}
        matched = match_words([o[0] for o in occurrences], prons, optional)
        if matched is not None:
            return [(occurrences[a][1], occurrences[b][2]) for a, b in matched]
    return _spans_from_output_frames(word_frames, occurrences, len(columns))


def _spans_from_output_frames(word_frames: Sequence[int], occurrences, num_frames: int) -> List[Span]:
    # Occurrences are in frame order and do not overlap, so their last frames are sorted.
    ends = [o[2] for o in occurrences]
    starts = []
    for frame in word_frames:
        index = bisect_left(ends, frame)  # the token holding or after the output frame
        starts.append(occurrences[index][1] if index < len(ends) else min(frame, num_frames - 1))
    spans = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else num_frames
        last = bisect_left(ends, limit) - 1  # the last token ending before the next word starts
        spans.append((start, ends[last] if last >= 0 and ends[last] >= start else start))
    return spans
