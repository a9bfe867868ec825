"""The batched GPU search's algorithm, run on the CPU (device="cuda-sim"): the same best paths as
the CPU search on ctc, ctc-compact and hmm graphs, batches of mixed lengths through few lanes,
and clear errors for what it does not do. tests/test_cuda_gpu.py runs the same on a GPU."""

import numpy as np
import pytest

import pywfst
from helpers import simulated_utterances

HMM_STATES = 2


@pytest.fixture(scope="module")
def graphs(char_setup, tmp_path_factory):
    root = tmp_path_factory.mktemp("cuda_sim_graphs")
    built = {}
    for name, kwargs in {
        "ctc": {"spell": True, "word_boundary": "|"},
        "ctc-compact": {"lexicon": char_setup["lexicon"], "topology": "ctc-compact"},
        "hmm": {"lexicon": char_setup["lexicon"], "topology": "hmm", "hmm_states": HMM_STATES},
    }.items():
        built[name] = pywfst.build_graph(char_setup["tokens"], root / name, lm=char_setup["lm"],
                                         progress=False, **kwargs)
    return built


def hmm_emissions(tokens, num_tokens, rng, noise=1.5, peak=3.0):
    """Scores [T, num_tokens * HMM_STATES] whose best reading passes each token's states in order,
    each for 1-3 frames."""
    columns = [t * HMM_STATES + k for t in tokens for k in range(HMM_STATES)
               for _ in range(int(rng.integers(1, 4)))]
    logits = rng.normal(0.0, noise, size=(len(columns), num_tokens * HMM_STATES))
    logits[np.arange(len(columns)), columns] += peak
    return (logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)).astype(np.float32)


def utterances(char_setup, name, count, seed, noise=1.5):
    if name != "hmm":  # the ctc graph spells words with '|' after each, ctc-compact without
        return simulated_utterances(char_setup, count, seed, boundary=name == "ctc", noise=noise)
    rng = np.random.default_rng(seed)
    ids = char_setup["token_ids"]
    return [hmm_emissions([ids[c] for w in sentence for c in w], len(ids), rng, noise=noise)
            for sentence in char_setup["sentences"][:count]]


def agreement(expected, got):
    same = sum(a.words == b.words and abs(a.cost - b.cost) < 1e-3 for a, b in zip(expected, got))
    return same / len(expected)


def assert_same_best_paths(expected, got):
    """The GPU search's results against the CPU search's: >= 99 % the same words and cost, and
    where the words agree, the same costs apart, frames and word times."""
    assert agreement(expected, got) >= 0.99, [
        (i, a.words, a.cost, b.words, b.cost) for i, (a, b) in enumerate(zip(expected, got))
        if a.words != b.words or abs(a.cost - b.cost) >= 1e-3][:10]
    for a, b in zip(expected, got):
        if a.words == b.words:
            assert b.reached_final == a.reached_final
            assert b.acoustic_cost == pytest.approx(a.acoustic_cost, abs=2e-3)
            assert b.graph_cost == pytest.approx(a.graph_cost, abs=2e-3)
            assert b.num_frames == a.num_frames
    assert [r.word_times for r in got[:5]] == [r.word_times for r in expected[:5]]


@pytest.mark.parametrize("name", ["ctc", "ctc-compact", "hmm"])
@pytest.mark.parametrize("beam, max_active, min_active", [(16.0, 7000, 200), (6.0, 150, 20)])
def test_same_best_path_as_the_cpu_search(graphs, char_setup, name, beam, max_active, min_active):
    graph = graphs[name]
    batch = utterances(char_setup, name, 60, seed=4)
    options = {"beam": beam, "max_active": max_active, "min_active": min_active}
    expected = pywfst.Decoder(graph, **options).decode_batch(batch)
    # Fewer lanes than utterances of different lengths: they stream through the lanes.
    got = pywfst.Decoder(graph, device="cuda-sim", lanes=5, **options).decode_batch(batch)
    assert_same_best_paths(expected, got)


def test_results_do_not_depend_on_lanes_or_order(graphs, char_setup):
    graph = graphs["ctc"]
    batch = utterances(char_setup, "ctc", 24, seed=9, noise=2.0)
    one = pywfst.Decoder(graph, device="cuda-sim", lanes=1).decode_batch(batch)
    many = pywfst.Decoder(graph, device="cuda-sim", lanes=7)
    first = many.decode_batch(batch)
    again = many.decode_batch(batch[::-1])[::-1]
    key = [(r.words, r.cost, r.alignment) for r in one]
    assert [(r.words, r.cost, r.alignment) for r in first] == key
    assert [(r.words, r.cost, r.alignment) for r in again] == key
    assert many.decode(batch[3]).words == one[3].words


def test_scores_options_on_the_simulated_gpu(graphs, char_setup):
    graph = graphs["ctc"]
    logp = utterances(char_setup, "ctc", 3, seed=2)[1]
    priors = np.linspace(-1.0, -2.0, logp.shape[1]).astype(np.float32)
    for options, scores in [
        ({"log_softmax": True}, logp + 3.0),
        ({"acoustic_scale": 0.7, "log_priors": priors}, logp),
        ({}, logp.astype(np.float16)),
        ({}, np.asfortranarray(logp)),  # any strides
    ]:
        cpu = pywfst.Decoder(graph, **options).decode(scores)
        sim = pywfst.Decoder(graph, device="cuda-sim", **options).decode(scores)
        assert sim.words == cpu.words
        assert sim.cost == pytest.approx(cpu.cost, abs=1e-3)


def test_bad_inputs_and_unsupported_options(graphs, char_setup):
    graph = graphs["ctc"]
    decoder = pywfst.Decoder(graph, device="cuda-sim")
    good = utterances(char_setup, "ctc", 2, seed=5)
    bad = good[1].copy()
    bad[4, 7] = np.nan
    with pytest.raises(ValueError, match=r"utt-b\[4, 7\] is nan"):
        decoder.decode_batch([good[0], bad], names=["utt-a", "utt-b"])
    assert decoder.decode(good[0]).words  # the search is usable after an error
    with pytest.raises(ValueError, match=r"emissions: 5 columns"):
        decoder.decode(good[0][:, :5])
    with pytest.raises(ValueError, match="empty"):
        decoder.decode(np.zeros((0, good[0].shape[1]), np.float32))
    with pytest.raises(ValueError, match="nbest"):
        pywfst.Decoder(graph, device="cuda-sim", nbest=3)
    with pytest.raises(ValueError, match="boost"):
        decoder.decode(good[0], boost=["cat"])
    with pytest.raises(ValueError, match="lanes"):
        pywfst.Decoder(graph, device="cuda-sim", lanes=100000)
    with pytest.raises(ValueError, match="device"):
        pywfst.Decoder(graph, device="tpu")


@pytest.mark.skipif(not pywfst._core.cuda_unavailable_reason(0), reason="a CUDA GPU is present")
def test_cuda_without_a_gpu_says_why(graphs):
    with pytest.raises(RuntimeError, match=r"device 'cuda': "):
        pywfst.Decoder(graphs["ctc"], device="cuda")
