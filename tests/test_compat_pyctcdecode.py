"""pywfst.compat.pyctcdecode.build_ctcdecoder: pyctcdecode's documented calls (its README's),
answered by pywfst, with numpy 2."""

import multiprocessing

import pytest

from helpers import simulated_utterances
from pywfst.compat.pyctcdecode import build_ctcdecoder

# char_setup's emission columns: blank, word boundary, a..z, '
LABELS = ["", " "] + list("abcdefghijklmnopqrstuvwxyz'")


@pytest.fixture(scope="module")
def utterances(char_setup):
    sentences = char_setup["sentences"][:6]
    return list(zip(sentences, simulated_utterances(char_setup, 6, seed=61, peak=4.0,
                                                    noise=1.0)))


def test_readme_calls(char_setup, utterances):
    decoder = build_ctcdecoder(LABELS, kenlm_model_path=str(char_setup["lm"]), alpha=0.5,
                               beta=0.0)
    for sentence, logits in utterances:
        assert decoder.decode(logits) == " ".join(sentence)
    sentence, logits = utterances[0]
    beams = decoder.decode_beams(logits)
    text, lm_state, frames, logit_score, combined = beams[0]
    assert text == " ".join(sentence) and lm_state is None
    assert [w for w, _ in frames] == sentence
    starts = [span[0] for _, span in frames]
    assert starts == sorted(starts) and all(s < e <= len(logits) for _, (s, e) in frames)
    assert combined <= logit_score  # the LM's part is a cost
    assert len(beams) > 1 and len({b[0] for b in beams}) == len(beams)
    assert [b[4] for b in beams] == sorted((b[4] for b in beams), reverse=True)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        texts = decoder.decode_batch(pool, [l for _, l in utterances])
    assert texts == [" ".join(s) for s, _ in utterances]
    assert [b[0][0] for b in decoder.decode_beams_batch(None, [l for _, l in utterances])] == texts


def test_unigrams_limit_the_words(char_setup, utterances):
    sentence, logits = utterances[0]
    words = sorted(set(char_setup["words"]) - {sentence[0]})
    decoder = build_ctcdecoder(LABELS, kenlm_model_path=str(char_setup["lm"]), unigrams=words)
    assert sentence[0] not in decoder.decode(logits).split()
    no_lm = build_ctcdecoder(LABELS, unigrams=char_setup["words"], beta=0.0)
    assert no_lm.decode(logits) == " ".join(sentence)


def test_hotwords_are_boosted(char_setup, utterances):
    decoder = build_ctcdecoder(LABELS, kenlm_model_path=str(char_setup["lm"]), beta=0.0)
    same = 0
    for sentence, logits in utterances:
        plain = decoder.decode_beams(logits)[0]
        hotword = sentence[0]
        boosted = decoder.decode_beams(logits, hotwords=[hotword], hotword_weight=3.0)[0]
        assert hotword in boosted[0].split()
        if boosted[0] == plain[0]:  # the same path, each occurrence 3 cheaper
            same += 1
            assert boosted[4] == pytest.approx(plain[4] + 3.0 * plain[0].split().count(hotword),
                                               abs=1e-3)
    assert same >= 3


def test_a_hotword_list_passed_again_is_not_compiled_again(char_setup, utterances, monkeypatch):
    """pyctcdecode pays for its hotwords on every call; the drop-in keeps the compiled boost of
    recent lists (1000 hotwords took about 7 ms to compile, more than the decode)."""
    import pywfst.compat.pyctcdecode as compat

    compiled = []
    real = compat.PhraseBoost

    def counting(graph, phrases):
        compiled.append(dict(phrases))
        return real(graph, phrases)

    monkeypatch.setattr(compat, "PhraseBoost", counting)
    decoder = build_ctcdecoder(LABELS, kenlm_model_path=str(char_setup["lm"]), beta=0.0)
    sentence, logits = utterances[0]
    hotwords = [sentence[0], sentence[-1]]
    first = decoder.decode_beams(logits, hotwords=hotwords, hotword_weight=3.0)[0]
    for _ in range(3):
        assert decoder.decode_beams(logits, hotwords=list(hotwords), hotword_weight=3.0)[0] == first
    decoder.decode_batch(None, [logits], hotwords=hotwords, hotword_weight=3.0)
    assert compiled == [{sentence[0]: 3.0, sentence[-1]: 3.0}]
    decoder.decode(logits, hotwords=hotwords, hotword_weight=4.0)  # another weight: compiled
    for index in range(compat.KEPT_BOOSTS + 2):  # the oldest lists make way for new ones
        decoder.decode(logits, hotwords=[sentence[0]], hotword_weight=float(index))
    assert len(decoder._boosts) == compat.KEPT_BOOSTS
    assert len(compiled) == compat.KEPT_BOOSTS + 4


def test_words_end_only_where_the_delimiter_is():
    """pyctcdecode's words are the text between delimiters: a bonus per word (beta) must not
    split "ab" into "a b" where no " " was emitted (pywfst's optional boundary would)."""
    import numpy as np

    labels = ["", " ", "a", "b"]
    frames = ["a", "a", "b", "b", "", ""]
    logits = np.full((len(frames), len(labels)), -10.0, dtype=np.float32)
    logits[:, 1] = -5.0  # the delimiter: emitted nowhere
    for t, label in enumerate(frames):
        logits[t, labels.index(label)] = 0.0
    decoder = build_ctcdecoder(labels, unigrams=["ab", "a", "b"], beta=3.0)
    assert decoder.decode(logits) == "ab"
    assert decoder.graph.info["word_boundary"]["optional"] is False
    logits[2, 1] = 0.0  # "a a | b b": the delimiter emitted between them
    logits[2, 3] = -10.0
    assert decoder.decode(logits) == "a b"


@pytest.mark.parametrize("labels, kwargs, message", [
    (LABELS[1:], {}, 'blank "" is missing'),
    ([l for l in LABELS if l != " "], {}, 'delimiter " " is missing'),
    (LABELS, {"kenlm_model_path": None}, "lexicon-free"),
])
def test_unsupported_setups_are_clear_errors(char_setup, labels, kwargs, message):
    arguments = {"kenlm_model_path": str(char_setup["lm"]), **kwargs}
    with pytest.raises(ValueError, match=message):
        build_ctcdecoder(labels, **arguments)


def test_kenlm_binary_is_refused_with_the_reason(tmp_path):
    binary = tmp_path / "lm.bin"
    binary.write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\0\0")
    with pytest.raises(ValueError, match="KenLM binary.*ARPA"):
        build_ctcdecoder(LABELS, kenlm_model_path=str(binary))
