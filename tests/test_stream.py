"""Streaming: chunk by chunk, the same Result as offline decoding; partial words; endpoints."""

import numpy as np
import pytest

import pywfst
from pywfst.stream import KALDI_ENDPOINT_RULES, EndpointRule
from pywfst.synthetic import simulate_ctc_emissions

from test_cuda_decoder import graphs, utterances  # noqa: F401 - the same graphs and scores


def chunks(emissions, rng):
    """Random chunk sizes from 0 to 9 frames, single frames included."""
    position = 0
    while position < len(emissions):
        size = int(rng.integers(0, 10))
        yield emissions[position:position + size]
        position += size


def same_result(a, b):
    assert a.words == b.words
    assert a.cost == b.cost and a.acoustic_cost == b.acoustic_cost
    assert a.alignment == b.alignment and a.word_times == b.word_times
    assert a.reached_final == b.reached_final and a.num_frames == b.num_frames


@pytest.mark.parametrize("name", ["ctc", "ctc-compact", "hmm"])
def test_finish_equals_offline_decoding(graphs, char_setup, name):  # noqa: F811
    rng = np.random.default_rng(1)
    decoder = pywfst.Decoder(graphs[name], beam=10.0, max_active=300)
    stream = decoder.stream()  # one stream, utterance after utterance
    for emissions in utterances(char_setup, name, 12, seed=6, noise=2.0):
        for chunk in chunks(emissions, rng):
            stream.accept(chunk)
        same_result(stream.finish(), decoder.decode(emissions))
        assert stream.num_frames == 0
    one_frame = utterances(char_setup, name, 1, seed=7)[0]
    for frame in one_frame:
        stream.accept(frame[None])
    same_result(stream.finish(), decoder.decode(one_frame))


def test_stream_with_boost_nbest_and_options(graphs, char_setup):  # noqa: F811
    graph = graphs["ctc"]
    rng = np.random.default_rng(2)
    emissions = utterances(char_setup, "ctc", 3, seed=8, noise=2.0)[2]
    priors = np.linspace(-1.0, -2.0, emissions.shape[1]).astype(np.float32)
    decoder = pywfst.Decoder(graph, nbest=3, acoustic_scale=0.8, log_priors=priors)
    boost = {"cat": 3.0, "the dog": 4.0}
    stream = decoder.stream(boost=boost)
    for chunk in chunks(emissions, rng):
        stream.accept(chunk)
    result, offline = stream.finish(), decoder.decode(emissions, boost=boost)
    same_result(result, offline)
    assert [h.words for h in result.nbest] == [h.words for h in offline.nbest]
    assert result.boost_cost == offline.boost_cost


def test_partial_words_follow_the_best_path(graphs, char_setup):  # noqa: F811
    ids = char_setup["token_ids"]
    sentence = ["the", "cat", "sat", "on", "the", "mat"]
    tokens = [t for w in sentence for t in [ids[c] for c in w] + [ids["|"]]]
    emissions = simulate_ctc_emissions(tokens, len(ids), np.random.default_rng(3), peak=6.0,
                                       noise=0.5)
    stream = pywfst.Decoder(graphs["ctc"]).stream()
    seen = []
    for start in range(0, len(emissions), 4):
        stream.accept(emissions[start:start + 4])
        seen.append(stream.partial().words)
    assert seen[0] == [] or seen[0] == ["the"]
    assert seen[-1] == sentence  # clean scores: the best path is the sentence
    assert all(len(a) <= len(b) + 1 for a, b in zip(seen, seen[1:]))
    assert stream.partial().num_frames == len(emissions)
    assert stream.finish().words == sentence


def test_endpoint_after_trailing_silence(graphs, char_setup):  # noqa: F811
    ids = char_setup["token_ids"]
    tokens = [t for w in ["the", "cat"] for t in [ids[c] for c in w] + [ids["|"]]]
    speech = simulate_ctc_emissions(tokens, len(ids), np.random.default_rng(4), peak=6.0,
                                    noise=0.5)
    blank = np.full((1, len(ids)), -12.0, np.float32)
    blank[0, 0] = 0.0
    decoder = pywfst.Decoder(graphs["ctc"], frame_shift=0.04)
    stream = decoder.stream()
    stream.accept(speech)
    assert not stream.endpoint()
    ended_after = None
    for frame in range(1, 200):
        stream.accept(blank)
        if stream.endpoint():
            ended_after = frame
            break
    # Rule 2: 0.5 s of trailing silence (13 frames of 40 ms, counting the speech's own tail of
    # blanks) once the words could end in a final state.
    assert ended_after is not None and ended_after <= 13
    assert stream.finish().words == ["the", "cat"]
    # Nothing said: only rule 1 (5 s of silence) or rule 5 ends it.
    for _ in range(int(4.9 / 0.04)):
        stream.accept(blank)
    assert not stream.endpoint()
    stream.accept(np.repeat(blank, 5, axis=0))
    assert stream.endpoint()
    never = decoder.stream(endpoint_rules=[EndpointRule(True, 100.0, 0.0, 0.0)])
    never.accept(speech)
    assert not never.endpoint()
    assert len(KALDI_ENDPOINT_RULES) == 5


def test_bad_chunks_are_refused_and_the_stream_goes_on(graphs, char_setup):  # noqa: F811
    emissions = utterances(char_setup, "ctc", 1, seed=9)[0]
    decoder = pywfst.Decoder(graphs["ctc"])
    stream = decoder.stream()
    stream.accept(emissions[:10])
    bad = emissions[10:20].copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"utterance\[13, 5\] is nan"):
        stream.accept(bad)
    with pytest.raises(ValueError, match="chunk: 5 columns"):
        stream.accept(emissions[10:20, :5])
    stream.accept(emissions[10:])
    same_result(stream.finish(), decoder.decode(emissions))
    with pytest.raises(ValueError, match="no frames"):
        stream.finish()
