"""Word boundaries from the frame alignment."""

import numpy as np

import pywfst
from pywfst.word_alignment import match_words, token_occurrences


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
