"""Word boundaries from the frame alignment."""

import functools

import numpy as np

import pywfst
from pywfst.word_alignment import _spans_from_output_frames, match_words, token_occurrences


def test_token_occurrences_ctc_and_hmm():
    # CTC: blank 0; frames a a _ a b b (second 'a' is a new token after a blank)
    columns = [1, 1, 0, 1, 2, 2]
    continues = [False, True, False, False, False, True]
    assert token_occurrences(columns, continues, 0) == [(1, 0, 1), (1, 3, 3), (2, 4, 5)]
    # HMM, 2 states per token: token 3 = columns 6, 7; token 4 = columns 8, 9
    columns = [6, 6, 7, 8, 9, 9]
    continues = [False, True, False, False, False, True]
    assert token_occurrences(columns, continues, -1, states_per_token=2) == [(3, 0, 2), (4, 3, 5)]


def test_match_words_uses_pronunciations_and_optional_tokens():
    prons = [frozenset({(5, 6), (5,)}), frozenset({(7,)})]
    assert match_words([9, 5, 6, 9, 7], prons, optional={9}) == [(1, 2), (4, 4)]
    assert match_words([5, 7], prons, optional=set()) == [(0, 0), (1, 1)]
    assert match_words([5, 8], prons, optional=set()) is None


def test_word_times_with_several_pronunciations_on_hmm(tmp_path):
    (tmp_path / "tokens.txt").write_text("<eps> 0\nk 1\nae 2\nt 3\nd 4\nao 5\ng 6\n")
    (tmp_path / "lexicon.txt").write_text("cat k ae t\ncat k ae d\ncatalog k ae t ao g\ndog d ao g\n")
    graph = pywfst.build_graph(tmp_path / "tokens.txt", tmp_path / "g", topology="hmm",
                               hmm_states=2, lexicon=tmp_path / "lexicon.txt", progress=False)
    # "cat dog" with the second pronunciation of cat; each HMM state held 2 frames
    phones = [1, 2, 4, 4, 5, 6]
    columns = [p * 2 + k for p in phones for k in (0, 1) for _ in range(2)]
    emissions = np.full((len(columns), 14), -20.0, dtype=np.float32)
    emissions[np.arange(len(columns)), columns] = 0.0
    result = pywfst.Decoder(graph).decode(emissions)
    assert result.words == ["cat", "dog"]
    assert result.word_start_frames == [0, 12]
    assert result.word_end_frames == [11, 23]


# The recursive versions that match_words and _spans_from_output_frames replaced, kept as the
# reference their results must equal (recursion overflowed the C stack on long utterances).
def reference_match_words(tokens, prons, optional):
    @functools.lru_cache(maxsize=None)
    def solve(word, position):
        if word == len(prons):
            return () if all(t in optional for t in tokens[position:]) else None
        for pron in prons[word]:
            end = position + len(pron)
            if tuple(tokens[position:end]) == pron:
                tail = solve(word + 1, end)
                if tail is not None:
                    return ((position, end - 1),) + tail
        if position < len(tokens) and tokens[position] in optional:
            return solve(word, position + 1)
        return None

    found = solve(0, 0)
    return None if found is None else list(found)


def reference_spans_from_output_frames(word_frames, occurrences, num_frames):
    starts = []
    for frame in word_frames:
        later = [o[1] for o in occurrences if o[2] >= frame]
        starts.append(later[0] if later else min(frame, num_frames - 1))
    spans = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else num_frames
        inside = [o[2] for o in occurrences if start <= o[2] < limit]
        spans.append((start, max(inside) if inside else start))
    return spans


def random_case(rng):
    """Words with overlapping, ambiguous pronunciations over tokens 1-3 (4 optional), and a token
    sequence spelling them with optional tokens between, sometimes corrupted."""
    lexicon = [frozenset(tuple(int(t) for t in rng.integers(1, 4, size=rng.integers(1, 4)))
                         for _ in range(rng.integers(1, 4))) for _ in range(5)]
    words = [int(w) for w in rng.integers(0, len(lexicon), size=rng.integers(0, 7))]
    tokens = []
    for word in words:
        tokens += [4] * int(rng.integers(0, 2)) + list(sorted(lexicon[word])[rng.integers(0, len(lexicon[word]))])
    tokens += [4] * int(rng.integers(0, 2))
    if tokens and rng.random() < 0.3:
        tokens[rng.integers(0, len(tokens))] = int(rng.integers(1, 5))
    return tokens, [lexicon[w] for w in words], {4} if rng.random() < 0.8 else set()


def test_match_words_equals_the_recursive_reference_on_random_cases():
    rng = np.random.default_rng(0)
    outcomes = set()
    for _ in range(3000):
        tokens, prons, optional = random_case(rng)
        expected = reference_match_words(tokens, prons, optional)
        assert match_words(tokens, prons, optional) == expected, (tokens, prons, optional)
        outcomes.add(expected is None)
    assert outcomes == {True, False}  # both found and impossible segmentations were compared


def test_match_words_on_50000_words():
    prons = [frozenset({(1, 2), (1,)}), frozenset({(3,)}), frozenset({(2, 3), (2,)})] * 16667
    tokens = []
    for index, pron in enumerate(prons):
        tokens += [9] + list(max(pron, key=len)) if index % 2 else list(min(pron, key=len))
    matched = match_words(tokens, prons, {9})
    assert len(matched) == len(prons) and matched[-1][1] == len(tokens) - 1
    assert all(tokens[a:b + 1] in ([list(p) for p in pron]) for (a, b), pron in zip(matched, prons))
    # Each block "1 1 1 2" reads as A A S in two ways (A is "1" or "1 1"), and the last token
    # fits no word: without remembering failed states the search would try 2^12500 readings.
    either, separator = frozenset({(1,), (1, 1)}), frozenset({(2,)})
    assert match_words([1, 1, 1, 2] * 12500 + [5], [either, either, separator] * 12500,
                       set()) is None


def test_spans_from_output_frames_equals_the_reference():
    rng = np.random.default_rng(1)
    for _ in range(500):
        num_frames = int(rng.integers(1, 40))
        columns = [int(c) for c in rng.integers(0, 3, size=num_frames)]
        continues = [bool(c) for c in rng.integers(0, 2, size=num_frames)]
        occurrences = token_occurrences(columns, continues, 0)
        word_frames = sorted(int(f) for f in rng.integers(0, num_frames, size=rng.integers(0, 6)))
        assert (_spans_from_output_frames(word_frames, occurrences, num_frames)
                == reference_spans_from_output_frames(word_frames, occurrences, num_frames))


def test_word_times_of_a_20000_word_utterance(tmp_path):
    (tmp_path / "tokens.txt").write_text("<blk> 0\n| 1\na 2\nb 3\nc 4\n")
    (tmp_path / "lexicon.txt").write_text("ab a b\nba b a\nc c\n")
    graph = pywfst.build_graph(tmp_path / "tokens.txt", tmp_path / "g", word_boundary="|",
                               lexicon=tmp_path / "lexicon.txt", progress=False)
    spellings = {"ab": [2, 3], "ba": [3, 2], "c": [4]}
    words = [str(w) for w in np.random.default_rng(2).choice(list(spellings), size=20000)]
    columns, spans = [], []
    for index, word in enumerate(words):
        if index % 3 == 0:
            columns += [1, 1]  # an optional '|' before every third word
        for position, token in enumerate(spellings[word]):
            if columns and columns[-1] == token:
                columns.append(0)  # CTC needs a blank between repeated tokens
            if position == 0:
                start = len(columns)
            columns += [token, token]
        spans.append((start, len(columns) - 1))
    emissions = np.full((len(columns), 5), -20.0, dtype=np.float32)
    emissions[np.arange(len(columns)), columns] = 0.0
    result = pywfst.Decoder(graph, frame_shift=0.03).decode(emissions)
    assert result.words == words
    assert result.word_times == [(a * 0.03, (b + 1) * 0.03) for a, b in spans]
