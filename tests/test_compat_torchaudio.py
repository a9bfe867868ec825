"""pywfst.compat.torchaudio.ctc_decoder: torchaudio's documented calls (the "ASR Inference with
CTC Decoder" tutorial's), answered by pywfst."""

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import simulated_utterances

torch = pytest.importorskip("torch")
from pywfst.compat.torchaudio import CTCHypothesis, ctc_decoder  # noqa: E402

LETTERS = "abcdefghijklmnopqrstuvwxyz'"


@pytest.fixture(scope="module")
def files(char_setup, tmp_path_factory):
    root = tmp_path_factory.mktemp("torchaudio")
    tokens = ["-", "|"] + list(LETTERS)  # the tutorial's layout: blank '-', silence '|'
    (root / "tokens.txt").write_text("".join(f"{t}\n" for t in tokens))
    (root / "lexicon.txt").write_text("".join(f"{w}\t{' '.join(w)} |\n"
                                              for w in char_setup["words"]))
    return {"tokens": str(root / "tokens.txt"), "lexicon": str(root / "lexicon.txt"),
            "lm": str(char_setup["lm"]), "root": root, "token_list": tokens}


@pytest.fixture(scope="module")
def batch(char_setup):
    # char_setup's columns: <blk>, |, a..z, ' — the same order as the tokens above.
    sentences = char_setup["sentences"][:6]
    arrays = simulated_utterances(char_setup, 6, seed=51, peak=4.0, noise=1.0)
    longest = max(len(a) for a in arrays)
    padded = np.zeros((len(arrays), longest, arrays[0].shape[1]), dtype=np.float32)
    for i, a in enumerate(arrays):
        padded[i, :len(a)] = a
    return sentences, torch.from_numpy(padded), torch.tensor([len(a) for a in arrays])


def test_tutorial_calls(files, batch):
    sentences, emissions, lengths = batch
    decoder = ctc_decoder(lexicon=files["lexicon"], tokens=files["tokens"], lm=files["lm"],
                          nbest=3, beam_size=1500, lm_weight=3.23, word_score=-0.26)
    results = decoder(emissions, lengths)
    assert len(results) == len(sentences)
    for sentence, hypotheses, length in zip(sentences, results, lengths):
        assert 1 <= len(hypotheses) <= 3 and isinstance(hypotheses[0], CTCHypothesis)
        best = hypotheses[0]
        assert " ".join(best.words).strip() == " ".join(sentence)
        assert best.tokens.dtype == torch.long and best.timesteps.dtype == torch.int32
        assert "".join(decoder.idxs_to_tokens(best.tokens)) == "".join(w + "|" for w in sentence)
        steps = best.timesteps.tolist()
        assert steps == sorted(steps) and steps[-1] < int(length)
        scores = [h.score for h in hypotheses]
        assert scores == sorted(scores, reverse=True) and all(math.isfinite(s) for s in scores)


def test_incremental_decoding_gives_the_batch_result(files, batch):
    _, emissions, lengths = batch
    decoder = ctc_decoder(lexicon=files["lexicon"], tokens=files["token_list"], lm=files["lm"])
    expected = decoder(emissions, lengths)[0][0]
    decoder.decode_begin()
    utterance = emissions[0, :int(lengths[0])]
    for start in range(0, len(utterance), 7):
        decoder.decode_step(utterance[start:start + 7])
    decoder.decode_end()
    got = decoder.get_final_hypothesis()[0]
    assert got.words == expected.words and torch.equal(got.tokens, expected.tokens)
    assert got.score == pytest.approx(expected.score)


def test_blank_anywhere_in_the_tokens(files, batch, tmp_path):
    sentences, emissions, lengths = batch
    tokens = files["token_list"]
    moved = tokens[1:] + tokens[:1]  # the blank last: its column moves too
    decoder = ctc_decoder(lexicon=files["lexicon"], tokens=moved, lm=files["lm"])
    permuted = torch.cat([emissions[..., 1:], emissions[..., :1]], dim=-1)
    results = decoder(permuted, lengths)
    assert [r[0].words for r in results] == [list(s) for s in sentences]
    assert decoder.idxs_to_tokens(results[0][0].tokens)[-1] == "|"


def test_second_decoder_loads_the_cached_graph(files, monkeypatch):
    import pywfst.graph

    ctc_decoder(lexicon=files["lexicon"], tokens=files["tokens"], lm=files["lm"])
    calls = []
    monkeypatch.setattr(pywfst.graph, "build_graph", lambda *a, **k: calls.append(a))
    decoder = ctc_decoder(lexicon=files["lexicon"], tokens=files["tokens"], lm=files["lm"])
    assert calls == [] and decoder.graph.path.exists()
    moved = files["root"] / "moved"  # the same files elsewhere: the same graph
    moved.mkdir(exist_ok=True)
    for name in ("lexicon", "lm"):
        shutil.copy(files[name], moved / Path(files[name]).name)
    again = ctc_decoder(lexicon=str(moved / Path(files["lexicon"]).name), tokens=files["tokens"],
                        lm=str(moved / Path(files["lm"]).name))
    assert calls == [] and again.graph.path == decoder.graph.path


@pytest.mark.parametrize("kwargs, error, message", [
    ({"lexicon": None}, ValueError, "lexicon-free"),
    ({"log_add": True}, ValueError, "log_add"),
    ({"sil_score": -1.0}, ValueError, "sil_score"),
    ({"lm_dict": "words.txt"}, ValueError, "lm_dict"),
    ({"unk_score": -5.0}, ValueError, "unk_score"),
    ({"blank_token": "<pad>"}, ValueError, "blank_token '<pad>'"),
    ({"lm": object()}, TypeError, "custom object"),
])
def test_unsupported_options_are_clear_errors(files, kwargs, error, message):
    arguments = {"lexicon": files["lexicon"], "tokens": files["tokens"], "lm": files["lm"],
                 **kwargs}
    with pytest.raises(error, match=message):
        ctc_decoder(**arguments)


def test_kenlm_binary_is_refused_with_the_reason(files, tmp_path):
    binary = tmp_path / "lm.bin"
    binary.write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\0\0")
    with pytest.raises(ValueError, match="KenLM binary.*ARPA"):
        ctc_decoder(lexicon=files["lexicon"], tokens=files["tokens"], lm=str(binary))
