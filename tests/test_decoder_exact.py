"""The decoder finds the same best path as Kaldi's FasterDecoder and as an exhaustive search."""

import numpy as np
import pytest
import pywrapfst as fst

import pywfst
from helpers import simulated_utterances

kaldifst = pytest.importorskip("kaldifst")
kaldi_decoder = pytest.importorskip("kaldi_decoder")


@pytest.fixture(scope="module")
def setups(char_setup, tmp_path_factory):
    root = tmp_path_factory.mktemp("decoder_graphs")
    graphs = {}
    for name, kwargs in {
        "ctc": {"lexicon": char_setup["lexicon"]},
        "ctc-compact": {"lexicon": char_setup["lexicon"], "topology": "ctc-compact"},
        "spell-boundary": {"spell": True, "word_boundary": "|"},
    }.items():
        graphs[name] = pywfst.build_graph(char_setup["tokens"], root / name, lm=char_setup["lm"],
                                          progress=False, **kwargs)
    return graphs


KALDI_HASH_RATIO = 2.0  # FasterDecoderOptions' default


def _kaldi_best(graph_fst, emissions, beam, max_active, min_active,
                hash_ratio=KALDI_HASH_RATIO):
    options = kaldi_decoder.FasterDecoderOptions(beam=beam, max_active=max_active,
                                                 min_active=min_active)
    options.hash_ratio = hash_ratio
    decoder = kaldi_decoder.FasterDecoder(graph_fst, options)
    decoder.decode(kaldi_decoder.DecodableCtc(emissions))
    _, lattice = decoder.get_best_path()
    _, _, words, weight = kaldifst.get_linear_symbol_sequence(lattice)
    return list(words), weight.value1 + weight.value2


@pytest.mark.parametrize("name", ["ctc", "ctc-compact", "spell-boundary"])
@pytest.mark.parametrize("beam, max_active, min_active, required", [
    (16.0, 100000, 20, 1.0),  # wide: every utterance
    (5.0, 200, 20, 0.99),     # tight: at least 99 %
    (16.0, 30, 20, 0.99),     # max_active decides the cutoff
    # min_active decides the cutoff on most frames: Kaldi's order statistic is a float
    # (with exact double costs instead: 42-81 of 100 equal)
    (0.5, 100000, 3, 0.99),
    (1.0, 100000, 5, 0.99),
])
def test_same_best_path_as_kaldi(setups, char_setup, name, beam, max_active, min_active, required):
    """Kaldi expands a frame's tokens in the order of its token hash: by bucket (state modulo
    the hash's size, hash_ratio times the largest frame so far), in insertion order within one.
    pywfst expands them in insertion order, which Kaldi's is when no two states share a bucket: a
    hash larger than the graph gives every utterance. Its default hash may move the running
    cutoff of a small beam (99-100 of 100 equal)."""
    graph = setups[name]
    graph_fst = kaldifst.StdVectorFst.read(str(graph.fst_path))
    decoder = pywfst.Decoder(graph, beam=beam, max_active=max_active, min_active=min_active)
    utterances = simulated_utterances(char_setup, 100, seed=1, boundary=name == "spell-boundary")
    # Buckets >= states after the first frame (asked where the default may differ: a wide
    # beam's frames would make that hash large).
    no_collisions = float(graph_fst.num_states + 1)
    ratios = [KALDI_HASH_RATIO] + ([no_collisions] if required < 1.0 else [])
    same = dict.fromkeys(ratios, 0)
    for emissions in utterances:
        result = decoder.decode(emissions)
        for hash_ratio in ratios:
            words, cost = _kaldi_best(graph_fst, emissions, beam, max_active, min_active,
                                      hash_ratio)
            same[hash_ratio] += words == result.word_ids and abs(cost - result.cost) < 1e-3
    count = len(utterances)
    if no_collisions in same:
        assert same[no_collisions] == count, \
            f"{same[no_collisions]}/{count} equal to Kaldi expanding in insertion order"
    assert same[KALDI_HASH_RATIO] >= required * count, \
        f"{same[KALDI_HASH_RATIO]}/{count} equal to Kaldi"


def _emission_lattice(emissions: np.ndarray) -> fst.VectorFst:
    """All frame-label sequences as an acceptor: arc cost = -score, input label = column + 1."""
    lattice = fst.VectorFst()
    lattice.add_states(emissions.shape[0] + 1)
    lattice.set_start(0)
    lattice.set_final(emissions.shape[0])
    for t, row in enumerate(emissions):
        for column, score in enumerate(row):
            lattice.add_arc(t, fst.Arc(column + 1, column + 1, fst.Weight("tropical", -float(score)), t + 1))
    return lattice


@pytest.fixture
def tiny_graph(tmp_path):
    """A graph small enough for exhaustive search: homophone-free words, some prefixes of others,
    and the HCLG as an ilabel-sorted pywrapfst FST."""
    (tmp_path / "tokens.txt").write_text("<blk> 0\na 1\nb 2\nc 3\n")
    (tmp_path / "lexicon.txt").write_text("ab a b\naa a a\nba b a\nc c\nabc a b c\ncab c a b\nb b\n")
    graph = pywfst.build_graph(tmp_path / "tokens.txt", tmp_path / "g",
                               lexicon=tmp_path / "lexicon.txt", progress=False)
    hclg = fst.Fst.read(str(graph.fst_path))
    hclg.arcsort("ilabel")
    return graph, hclg


def test_wide_beam_equals_exhaustive_search(tiny_graph):
    """On a tiny graph, exhaustive Viterbi (emission lattice composed with HCLG) is the truth."""
    graph, hclg = tiny_graph
    decoder = pywfst.Decoder(graph, beam=1e4, max_active=1 << 30, min_active=0)
    rng = np.random.default_rng(7)
    for _ in range(30):
        frames = int(rng.integers(1, 9))
        emissions = np.log(rng.dirichlet(np.ones(4) * 0.5, size=frames)).astype(np.float32)
        best = fst.shortestpath(fst.compose(_emission_lattice(emissions), hclg))
        result = decoder.decode(emissions)
        if best.num_states() == 0:
            assert not result.reached_final
            continue
        expected_cost = float(fst.shortestdistance(best, reverse=True)[best.start()])
        words = []
        state = best.start()
        while best.num_arcs(state):
            arc = next(iter(best.arcs(state)))
            words += [arc.olabel] if arc.olabel else []
            state = arc.nextstate
        assert result.reached_final
        assert result.cost == pytest.approx(expected_cost, abs=1e-4)
        assert result.word_ids == words


def _word_sequences_by_cost(lattice_and_graph: fst.Fst, n: int):
    """The n cheapest distinct output sequences of an FST with their costs (by OpenFst)."""
    words = fst.determinize(lattice_and_graph.copy().project("output").rmepsilon())
    best = fst.shortestpath(words, nshortest=n)
    result = []
    for first in best.arcs(best.start()):
        sequence, cost, arc = [], float(first.weight), first
        while True:
            if arc.olabel:
                sequence.append(arc.olabel)
            arcs = list(best.arcs(arc.nextstate))
            if not arcs:
                cost += float(best.final(arc.nextstate))
                break
            arc = arcs[0]
            cost += float(arc.weight)
        result.append((sequence, cost))
    return sorted(result, key=lambda item: item[1])


def test_nbest_equals_exhaustive_search(tiny_graph):
    graph, hclg = tiny_graph
    decoder = pywfst.Decoder(graph, beam=1e4, max_active=1 << 30, min_active=0, nbest=5,
                             lattice_beam=1e4)
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(20):
        emissions = np.log(rng.dirichlet(np.ones(4), size=int(rng.integers(3, 8)))).astype(np.float32)
        composed = fst.compose(_emission_lattice(emissions), hclg)
        if composed.num_states() == 0:
            continue
        expected = _word_sequences_by_cost(composed, 50)
        cost_of = {tuple(words): cost for words, cost in expected}
        result = decoder.decode(emissions)
        got = [(h.word_ids, h.cost) for h in result.nbest]
        # The five cheapest costs, and each sequence at its true cost (ties may swap order).
        assert [c for _, c in got] == pytest.approx([c for _, c in expected[:5]], abs=1e-4)
        assert len({tuple(w) for w, _ in got}) == len(got)
        for words, cost in got:
            assert cost_of[tuple(words)] == pytest.approx(cost, abs=1e-4)
        assert result.nbest[0].word_ids == result.word_ids
        checked += 1
    assert checked >= 10
