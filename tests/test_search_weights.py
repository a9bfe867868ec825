"""lm_weight and word_insertion_penalty: applied inside the search, they give the same best path
and cost as a graph whose weights were scaled and penalised offline (no rebuild needed)."""

import numpy as np
import pytest

import pywfst
from helpers import foreign_graph, reweighted_copy, simulated_utterances

SETTINGS = [(1.0, 0.0), (2.5, 0.0), (1.0, 1.5), (0.6, -1.0), (1.7, 2.0)]


@pytest.fixture(scope="module")
def graph(spelled_graph):
    return spelled_graph


@pytest.fixture(scope="module")
def utterances(char_setup):
    # Noisy enough that the weights change some best paths.
    return simulated_utterances(char_setup, 40, seed=11, peak=2.5, noise=1.8)


@pytest.mark.parametrize("lm_weight, penalty", SETTINGS)
def test_same_best_path_as_the_reweighted_graph(graph, utterances, tmp_path, lm_weight, penalty):
    offline = pywfst.Decoder(reweighted_copy(graph, tmp_path / "g", lm_weight, penalty))
    online = pywfst.Decoder(graph, lm_weight=lm_weight, word_insertion_penalty=penalty)
    for emissions in utterances:
        expected, got = offline.decode(emissions), online.decode(emissions)
        assert got.words == expected.words
        assert got.alignment == expected.alignment
        assert got.cost == pytest.approx(expected.cost, rel=1e-5, abs=1e-3)
        assert got.acoustic_cost == pytest.approx(expected.acoustic_cost, rel=1e-5, abs=1e-3)


def test_the_knobs_change_the_result(graph, utterances):
    """Not a no-op: a large penalty drops words, a negative one adds them, and a path's cost
    is acoustic + lm_weight * graph + penalty * words."""
    plain = pywfst.Decoder(graph)
    fewer = pywfst.Decoder(graph, word_insertion_penalty=8.0)
    more = pywfst.Decoder(graph, word_insertion_penalty=-8.0)
    counts = [(len(fewer.decode(e).words), len(plain.decode(e).words), len(more.decode(e).words))
              for e in utterances]
    assert sum(f for f, _, _ in counts) < sum(p for _, p, _ in counts) < sum(m for *_, m in counts)
    heavy = pywfst.Decoder(graph, lm_weight=3.0, word_insertion_penalty=0.5)
    for emissions in utterances:
        base, weighted = plain.decode(emissions), heavy.decode(emissions)
        if weighted.words == base.words and weighted.alignment == base.alignment:
            expected = base.acoustic_cost + 3.0 * base.graph_cost + 0.5 * len(base.words)
            assert weighted.cost == pytest.approx(expected, rel=1e-5, abs=1e-3)


def test_nbest_and_stream_use_the_weights(graph, utterances):
    options = dict(lm_weight=1.8, word_insertion_penalty=0.7)
    decoder = pywfst.Decoder(graph, nbest=3, **options)
    for emissions in utterances[:8]:
        result = decoder.decode(emissions)
        assert result.nbest[0].words == result.words
        stream = decoder.stream()
        for start in range(0, len(emissions), 7):
            stream.accept(emissions[start:start + 7])
        streamed = stream.finish()
        assert streamed.words == result.words and streamed.cost == pytest.approx(result.cost)


def test_gpu_search_refuses_the_weights_clearly(graph):
    with pytest.raises(ValueError, match="lm_weight, word_insertion_penalty: not in the GPU"):
        pywfst.Decoder(graph, device="cuda-sim", lm_weight=2.0)
    assert pywfst.Decoder(graph, device="cuda-sim").options.lm_weight == 1.0


def test_negative_penalty_that_makes_a_word_cycle_negative_is_refused(tmp_path):
    # 1 -eps:a/1.0-> 2 -eps:b/1.0-> 1 costs 2 per round and holds two words: a penalty below -1
    # makes each round cheaper than the last, and the search would never end.
    arcs = [(0, 1, 0, 0.0, 1), (1, 0, 1, 1.0, 2), (2, 0, 2, 1.0, 1), (1, 2, 0, 0.0, 3)]
    directory = foreign_graph(tmp_path / "g", arcs, [3], 4, {"<eps>": 0, "a": 1, "b": 2})
    with pytest.raises(ValueError, match=r"word_insertion_penalty -1\.5: the epsilon arcs .* "
                                         r"negative cost -1 .*never end"):
        pywfst.Decoder(directory, word_insertion_penalty=-1.5)
    scores = np.log(np.array([[0.9, 0.1], [0.1, 0.9]], dtype=np.float32))
    assert pywfst.Decoder(directory, word_insertion_penalty=-0.5).decode(scores).words == []


def test_the_weighted_cycle_check_is_answered_once_per_graph(graph, utterances, tmp_path):
    """The check walks the whole graph; each decode_batch call and each stream makes a new search,
    which must not walk it again (torchaudio's drop-in, one decode_batch call per batch, was 150x
    slower with a positive word_score on benchmarks/wer's graph). Same answers, and a refused
    penalty is still refused by every kind of call."""
    decoder = pywfst.Decoder(graph, lm_weight=0.6, word_insertion_penalty=-1.0, num_threads=2)
    one_by_one = [decoder.decode(e) for e in utterances[:6]]
    for _ in range(2):
        batch = decoder.decode_batch(utterances[:6])
        assert [r.words for r in batch] == [r.words for r in one_by_one]
        assert [r.cost for r in batch] == pytest.approx([r.cost for r in one_by_one], rel=1e-6)
    stream = decoder.stream()
    stream.accept(utterances[0])
    assert stream.finish().words == one_by_one[0].words
    arcs = [(0, 1, 0, 0.0, 1), (1, 0, 1, 1.0, 2), (2, 0, 2, 1.0, 1), (1, 2, 0, 0.0, 3)]
    directory = foreign_graph(tmp_path / "g", arcs, [3], 4, {"<eps>": 0, "a": 1, "b": 2})
    cyclic = pywfst.Graph.load(directory)
    for _ in range(2):  # the remembered answer refuses as the first did
        with pytest.raises(ValueError, match=r"word_insertion_penalty -1\.5: .*never end"):
            pywfst.Decoder(cyclic, word_insertion_penalty=-1.5)
