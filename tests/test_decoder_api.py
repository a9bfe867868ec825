"""Decoder inputs, outputs, batching and lifetime."""

import gc

import numpy as np
import pytest
import pywrapfst as fst

import pywfst
from helpers import simulated_utterances


@pytest.fixture(scope="module")
def graph(char_setup, tmp_path_factory):
    """A spelling graph whose '|' is optional between words."""
    return pywfst.build_graph(char_setup["tokens"], tmp_path_factory.mktemp("api") / "g",
                              spell=True, word_boundary="|", boundary_mandatory=False,
                              lm=char_setup["lm"], progress=False)


@pytest.fixture(scope="module")
def utterances(char_setup):
    return list(zip(char_setup["sentences"][:12],
                    simulated_utterances(char_setup, 12, seed=3, peak=6.0, noise=1.0)))


def test_clean_emissions_decode_to_the_sentence(graph, utterances):
    decoder = pywfst.Decoder(graph)
    for sentence, emissions in utterances:
        result = decoder.decode(emissions)
        assert result.words == sentence
        assert result.text == " ".join(sentence)
        assert result.reached_final and result.num_frames == emissions.shape[0]
        assert result.cost == pytest.approx(result.acoustic_cost + result.graph_cost)
        assert result.score == -result.cost
        assert result.word_frames == sorted(result.word_frames)
        assert all(0 <= f <= emissions.shape[0] for f in result.word_frames)
        # Clean emissions: the best path reads the peak column of every frame.
        assert result.alignment == emissions.argmax(axis=1).tolist()
        spans = list(zip(result.word_start_frames, result.word_end_frames))
        assert result.word_times == [(s * 0.04, (e + 1) * 0.04) for s, e in spans]
        for word, (start, end) in zip(sentence, spans):
            first, last = graph.tokens[word[0]], graph.tokens[word[-1]]
            assert result.alignment[start] == first
            assert result.alignment[end] in (last, graph.tokens["|"])
            assert start <= end


def test_unpickled_emissions_decode(graph, utterances):
    """An array that came through pickle (what a worker process receives) has a float32 dtype
    object of its own, equal to but not the same as numpy's."""
    import pickle

    sentence, emissions = utterances[0]
    copy = pickle.loads(pickle.dumps(emissions))
    assert copy.dtype == emissions.dtype and copy.dtype is not emissions.dtype
    decoder = pywfst.Decoder(graph)
    assert decoder.decode(copy).words == sentence
    assert decoder.decode_batch([copy])[0].words == sentence


def test_logits_priors_scale_and_dtypes(graph, utterances):
    sentence, logp = utterances[0]
    reference = pywfst.Decoder(graph).decode(logp)
    logits = logp * 1.0 + 5.0  # a constant shift per frame: log-softmax removes it
    assert pywfst.Decoder(graph, log_softmax=True).decode(logits).words == sentence
    assert pywfst.Decoder(graph).decode(logp.astype(np.float16)).words == sentence
    assert pywfst.Decoder(graph).decode(logp.astype(np.float64)).cost == pytest.approx(reference.cost)
    scaled = pywfst.Decoder(graph, acoustic_scale=0.5).decode(logp)
    assert scaled.acoustic_cost == pytest.approx(0.5 * reference.acoustic_cost, rel=1e-5)
    priors = np.full(logp.shape[1], -1.0, dtype=np.float32)
    with_priors = pywfst.Decoder(graph, log_priors=priors).decode(logp)
    assert with_priors.acoustic_cost == pytest.approx(reference.acoustic_cost - logp.shape[0], rel=1e-5)
    strided = np.asfortranarray(logp)  # non-contiguous rows are read in place
    assert pywfst.Decoder(graph).decode(strided).cost == pytest.approx(reference.cost)


def test_torch_tensors(graph, utterances):
    torch = pytest.importorskip("torch")
    sentence, logp = utterances[1]
    assert pywfst.Decoder(graph).decode(torch.from_numpy(logp)).words == sentence
    assert pywfst.Decoder(graph).decode(torch.from_numpy(logp).requires_grad_()).words == sentence


@pytest.mark.parametrize("make_bad, error, message", [
    (lambda e: e.astype(np.int32), TypeError, "emissions: dtype must be float32"),
    (lambda e: e[None], ValueError, r"expected 2 dimensions"),
    (lambda e: e[:0], ValueError, "emissions: empty"),
    (lambda e: e[:, :5], ValueError, r"emissions: 5 columns, but the graph .* was built for 29"),
    (lambda e: np.where(np.arange(e.shape[0])[:, None] == 3, np.nan, e).astype(np.float32),
     ValueError, r"emissions\[3, 0\] is nan"),
    (lambda e: np.where(np.arange(e.shape[1])[None] == 2, np.inf, e).astype(np.float32),
     ValueError, r"emissions\[0, 2\] is inf"),
])
def test_bad_emissions(graph, utterances, make_bad, error, message):
    with pytest.raises(error, match=message):
        pywfst.Decoder(graph).decode(make_bad(utterances[0][1]))


@pytest.mark.parametrize("kwargs, message", [
    ({"beam": 0}, "beam: must be"), ({"beam": float("nan")}, "beam: must be"),
    ({"max_active": 0}, "max_active"), ({"min_active": 10, "max_active": 5}, "min_active"),
    ({"acoustic_scale": -1}, "acoustic_scale"), ({"frame_shift": 0}, "frame_shift"),
    ({"log_priors": np.zeros(3)}, "log_priors: expected"),
])
def test_bad_options(graph, utterances, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pywfst.Decoder(graph, **kwargs).decode(utterances[0][1])


def test_batch_equals_one_at_a_time(graph, utterances):
    decoder = pywfst.Decoder(graph, beam=10.0, max_active=300, num_threads=2)
    single = [decoder.decode(e) for _, e in utterances]
    batch = decoder.decode_batch([e for _, e in utterances])
    assert batch == single
    longest = max(e.shape[0] for _, e in utterances)
    padded = np.zeros((len(utterances), longest, utterances[0][1].shape[1]), dtype=np.float32)
    for i, (_, e) in enumerate(utterances):
        padded[i, :e.shape[0]] = e
    lengths = [e.shape[0] for _, e in utterances]
    assert decoder.decode_batch(padded, lengths=lengths) == single
    assert decoder.decode_batch([]) == []


def test_batch_errors_name_the_utterance(graph, utterances):
    decoder = pywfst.Decoder(graph)
    bad = utterances[2][1].copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"emissions\[1\]\[1, 1\] is nan"):
        decoder.decode_batch([utterances[0][1], bad])
    padded = np.zeros((2, 10, bad.shape[1]), dtype=np.float32)
    with pytest.raises(ValueError, match="lengths: each must be in"):
        decoder.decode_batch(padded, lengths=[10, 11])
    with pytest.raises(ValueError, match="lengths: expected 2 integers"):
        decoder.decode_batch(padded, lengths=[1.5, 2])


def test_decoder_keeps_graph_alive(char_setup, tmp_path, utterances):
    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "g", spell=True,
                               word_boundary="|", lm=char_setup["lm"], progress=False)
    decoder = pywfst.Decoder(graph)
    expected = decoder.decode(utterances[0][1]).words
    del graph
    gc.collect()
    import shutil

    shutil.rmtree(tmp_path / "g")  # the native graph owns its memory
    assert decoder.decode(utterances[0][1]).words == expected


def test_no_final_state_gives_best_partial_path(tmp_path):
    (tmp_path / "tokens.txt").write_text("<blk> 0\na 1\nb 2\n")
    (tmp_path / "lexicon.txt").write_text("ab a b\n")
    graph = pywfst.build_graph(tmp_path / "tokens.txt", tmp_path / "g", topology="identity",
                               lexicon=tmp_path / "lexicon.txt", progress=False)
    emissions = np.log(np.full((3, 3), 1 / 3, dtype=np.float32))  # 3 frames: "ab" + one more
    result = pywfst.Decoder(graph).decode(emissions)
    assert not result.reached_final


def test_graph_without_arcs_decodes_to_nothing(tmp_path):
    # One final state and no arcs at all: nothing reads a frame. (The search prefetches the arcs
    # of the states it is about to expand; with no arc array at all, clang's UBSan in the decode
    # fuzz harness caught an offset added to the null pointer there.)
    graph_fst = fst.VectorFst()
    graph_fst.set_start(graph_fst.add_state())
    graph_fst.set_final(0)
    graph_fst.write(str(tmp_path / "HCLG.fst"))
    (tmp_path / "words.txt").write_text("<eps> 0\nhello 1\n")
    graph = pywfst.Graph.load(tmp_path)
    emissions = np.log(np.full((4, 3), 1 / 3, dtype=np.float32))
    result = pywfst.Decoder(graph).decode(emissions)
    assert result.words == [] and not result.reached_final


@pytest.mark.parametrize("word_id", [1, 3, 10_000_000])
def test_word_names_dense_and_sparse_ids(tmp_path, word_id):
    # Dense ids are looked up in a list by id, sparse ones (a list would be mostly holes) in the
    # symbol table's dict: both give the word.
    graph_fst = fst.VectorFst()
    start, end = graph_fst.add_state(), graph_fst.add_state()
    graph_fst.set_start(start)
    graph_fst.add_arc(start, fst.Arc(1, word_id, 0.0, end))
    graph_fst.set_final(end)
    graph_fst.write(str(tmp_path / "HCLG.fst"))
    (tmp_path / "words.txt").write_text(f"<eps> 0\nhi 1\nthere 2\nyou {max(word_id, 3)}\n")
    graph = pywfst.Graph.load(tmp_path)
    result = pywfst.Decoder(graph).decode(np.zeros((1, 2), dtype=np.float32))
    assert result.word_ids == [word_id]
    assert result.words == ["hi" if word_id == 1 else "you"]
    assert graph.word_sequence([1, 0, 2, word_id]) == ["hi", "there", result.words[0]]
    assert graph.word_sequence([20_000_000]) == ["<unknown-word-20000000>"]


def test_nbest_results(graph, utterances):
    one_best = pywfst.Decoder(graph)
    decoder = pywfst.Decoder(graph, nbest=4)
    for sentence, emissions in utterances[:4]:
        result = decoder.decode(emissions)
        assert result.words == one_best.decode(emissions).words == sentence
        assert len(result.nbest) == 4 and result.nbest[0].words == result.words
        costs = [h.cost for h in result.nbest]
        assert costs == sorted(costs)
        assert len({tuple(h.words) for h in result.nbest}) == 4
    assert one_best.decode(utterances[0][1]).nbest == []
    with pytest.raises(ValueError, match="nbest: must be an integer in"):
        pywfst.Decoder(graph, nbest=0)
    narrow = pywfst.Decoder(graph, nbest=4, lattice_beam=0.01).decode(utterances[0][1])
    assert narrow.words == utterances[0][0]
    assert all(h.cost <= narrow.cost + 0.01 for h in narrow.nbest) and len(narrow.nbest) < 4
    with pytest.raises(ValueError, match="lattice_beam"):
        pywfst.Decoder(graph, lattice_beam=0)


def test_results_pickle_with_their_word_times(graph, utterances):
    import pickle

    result = pywfst.Decoder(graph).decode(utterances[0][1])
    clone = pickle.loads(pickle.dumps(result))
    assert clone == result and clone.word_times == result.word_times and clone.text == result.text
