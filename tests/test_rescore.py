"""LM rescoring of n-best lists: the graph's LM cost out, a new LM's in (pywfst.rescore)."""

import math

import pytest

import pywfst
from helpers import simulated_utterances, train_arpa
from pywfst.metrics import error_rate
from pywfst.rescoring import Rescorer, rescore

kenlm = pytest.importorskip("kenlm")


@pytest.fixture(scope="module")
def weak(char_setup, tmp_path_factory):
    """A unigram graph of the corpus, to decode with before rescoring with its trigram."""
    root = tmp_path_factory.mktemp("rescore")
    arpa = train_arpa(char_setup["root"] / "corpus.txt", root / "unigram.arpa", order=1)
    return pywfst.build_graph(char_setup["tokens"], root / "g", spell=True, word_boundary="|",
                              lm=arpa, progress=False)


@pytest.fixture(scope="module")
def utterances(char_setup):
    return list(zip(char_setup["sentences"][:30],
                    simulated_utterances(char_setup, 30, seed=41, peak=2.5, noise=1.8)))


def test_old_lm_cost_is_what_the_graph_charged(spelled_graph, utterances, char_setup):
    rescorer = Rescorer(spelled_graph, char_setup["lm"])
    decoder = pywfst.Decoder(spelled_graph, nbest=4)
    checked = 0
    for _, emissions in utterances[:10]:
        for h in decoder.decode(emissions).nbest:
            # A spelling graph has no lexicon costs: its graph cost is G's, to float precision.
            assert rescorer.old_lm_cost(h.word_ids) == pytest.approx(h.graph_cost, abs=2e-3)
            checked += 1
    assert checked >= 20


def test_rescored_cost_by_hand(weak, utterances, char_setup):
    model = kenlm.Model(str(char_setup["lm"]))
    rescorer = Rescorer(weak, char_setup["lm"], lm_weight=0.8)
    result = pywfst.Decoder(weak, nbest=6).decode(utterances[0][1])
    rescored = rescorer(result)
    by_words = {tuple(h.words): h for h in rescored.nbest}
    assert sorted(by_words) == sorted(tuple(h.words) for h in result.nbest)
    for h in result.nbest:
        new = -math.log(10) * model.score(" ".join(h.words), bos=True, eos=True)
        expected = h.cost - h.graph_cost + 0.8 * new  # the unigram graph's cost is all LM
        assert by_words[tuple(h.words)].cost == pytest.approx(expected, abs=2e-3)
    costs = [h.cost for h in rescored.nbest]
    assert costs == sorted(costs) and rescored.words == rescored.nbest[0].words
    single = pywfst.Decoder(weak).decode(utterances[0][1])
    assert rescore(single, weak, model).nbest == []


def test_rescoring_with_the_trigram_recovers_accuracy(weak, spelled_graph, utterances,
                                                      char_setup):
    rescorer = Rescorer(weak, char_setup["lm"])
    small = pywfst.Decoder(weak, nbest=20, lattice_beam=15.0)
    full = pywfst.Decoder(spelled_graph)
    pairs = {"small": [], "rescored": [], "full": []}
    for sentence, emissions in utterances:
        reference = " ".join(sentence)
        result = small.decode(emissions)
        pairs["small"].append((reference, result.text))
        pairs["rescored"].append((reference, rescorer(result).text))
        pairs["full"].append((reference, full.decode(emissions).text))
    wer = {name: error_rate(p) for name, p in pairs.items()}
    assert wer["rescored"] < wer["small"]
    assert wer["small"] - wer["rescored"] >= 0.5 * (wer["small"] - wer["full"])


def test_bad_rescoring_inputs(spelled_graph, char_setup, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.arpa"):
        Rescorer(spelled_graph, tmp_path / "nope.arpa")
    garbage = tmp_path / "garbage.arpa"
    garbage.write_text("not an lm\n")
    with pytest.raises(ValueError, match="garbage.arpa: kenlm cannot read it"):
        Rescorer(spelled_graph, garbage)
    with pytest.raises(ValueError, match="lm_weight: must be"):
        Rescorer(spelled_graph, char_setup["lm"], lm_weight=float("nan"))
    rescorer = Rescorer(spelled_graph, char_setup["lm"])
    with pytest.raises(ValueError, match="no path through"):
        rescorer.old_lm_cost([10**6])


@pytest.fixture(scope="module")
def weak_lattices(weak, utterances):
    """(sentence, result) decoded on the unigram graph with full lattices."""
    decoder = pywfst.Decoder(weak, lattice=True, lattice_beam=10.0)
    return [(sentence, decoder.decode(emissions)) for sentence, emissions in utterances]


def test_lattice_rescoring_changes_each_path_by_hand(weak, weak_lattices, char_setup):
    model = kenlm.Model(str(char_setup["lm"]))
    rescorer = Rescorer(weak, char_setup["lm"], lm_weight=0.8, graph_lm_weight=0.9)
    checked = 0
    for _, result in weak_lattices[:8]:
        rescored = rescorer.rescore_lattice(result.lattice)
        for path in result.lattice.nbest(15):
            words = [weak.word(w) for w in path.word_ids]
            new = -math.log(10) * model.score(" ".join(words), bos=True, eos=True)
            expected = path.cost - 0.9 * rescorer.old_lm_cost(path.word_ids) + 0.8 * new
            graph, acoustic, alignment = _walk(rescored, path.word_ids)
            assert graph + acoustic == pytest.approx(expected, abs=2e-3)
            assert acoustic == pytest.approx(path.acoustic_cost, abs=1e-6)
            assert alignment == path.alignment
            checked += 1
        # deterministic still: one arc per word out of a state
        assert len({(a.source, a.word_id) for a in rescored.arcs}) == len(rescored.arcs)
    assert checked >= 60


def _walk(lattice, word_ids):
    """(graph cost, acoustic cost, alignment) of a word sequence's path through a deterministic
    lattice."""
    out = lattice.arcs_by_source()
    state, graph, acoustic, alignment = 0, 0.0, 0.0, []
    for word in word_ids:
        (arc,) = [a for a in out.get(state, []) if a.word_id == word]
        state, graph, acoustic = arc.target, graph + arc.graph_cost, acoustic + arc.acoustic_cost
        alignment += arc.alignment
    final = lattice.finals[state]
    return graph + final.graph_cost, acoustic + final.acoustic_cost, alignment + list(
        final.alignment)


def test_rescoring_a_lattice_result(weak, weak_lattices, utterances, char_setup):
    """The rescored result is the rescored lattice's best path, with word times; the lattice
    holds the n-best list's sequences and more, so it never ends costlier than rescoring the
    n-best list (whether either lowers the WER is benchmarks/rescore's question)."""
    rescorer = Rescorer(weak, char_setup["lm"])
    nbest_decoder = pywfst.Decoder(weak, nbest=20, lattice_beam=10.0)
    cheaper = 0
    for (_, result), (_, emissions) in zip(weak_lattices, utterances):
        rescored = rescorer(result)
        best = rescored.lattice.best_path()
        assert rescored.word_ids == best.word_ids
        assert rescored.cost == pytest.approx(best.cost)
        assert rescored.acoustic_cost == pytest.approx(best.acoustic_cost)
        assert len(rescored.word_times) == len(rescored.words)  # word times from the path
        assert all(start < end for start, end in rescored.word_times)
        from_nbest = rescorer(nbest_decoder.decode(emissions))
        assert rescored.cost <= from_nbest.cost + 1e-3
        cheaper += rescored.cost < from_nbest.cost - 1e-3
    assert cheaper > 0


def test_rescoring_a_lattice_with_a_word_g_does_not_know(weak, char_setup):
    from pywfst.lattice import Lattice, LatticeArc, LatticeFinal

    lattice = Lattice(2, [LatticeArc(0, 1, 10**6, 0.0, 0.0, ())], {1: LatticeFinal(0.0, 0.0, ())})
    with pytest.raises(ValueError, match="<unknown-word-1000000>.*not in .*G.fst"):
        Rescorer(weak, char_setup["lm"]).rescore_lattice(lattice)
