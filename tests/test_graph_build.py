"""The graph compiler: exact LM costs, round trips through every topology and lexicon mode, and
the files it writes."""

import json
import math

import kenlm
import numpy as np
import pytest
import pywrapfst as fst

import pywfst
from helpers import best_output, ctc_frames, g_cost, read_words, train_bpe

TEST_SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran", "away"],
                  ["and", "to", "top"], ["the", "patient", "dose", "is", "high"],
                  ["we", "saw", "a", "judge", "from", "court"]]


@pytest.fixture(scope="module")
def ctc_graph(char_setup, tmp_path_factory):
    out = tmp_path_factory.mktemp("graphs") / "ctc"
    return pywfst.build_graph(char_setup["tokens"], out, lexicon=char_setup["lexicon"],
                              lm=char_setup["lm"], progress=False)


def test_g_costs_equal_kenlm(ctc_graph, char_setup):
    grammar = fst.Fst.read(str(ctc_graph.path / "G.fst"))
    words = read_words(ctc_graph.path / "words.txt")
    model = kenlm.Model(str(char_setup["lm"]))
    sentences = TEST_SENTENCES + char_setup["sentences"][:50]
    for sentence in sentences:
        expected = -math.log(10.0) * model.score(" ".join(sentence), bos=True, eos=True)
        cost = g_cost(grammar, [words[w] for w in sentence], words["#0"])
        assert cost == pytest.approx(expected, abs=1e-4), sentence


def _frames_for(sentence, token_ids, topology, hmm_states=3, boundary=None):
    tokens = []
    for index, word in enumerate(sentence):
        if boundary is not None and index > 0:
            tokens.append(token_ids[boundary])
        tokens.extend(token_ids[c] for c in word)
    if topology == "ctc" or topology == "ctc-compact":
        frames = ctc_frames(tokens)
    elif topology == "hmm":
        frames = [t * hmm_states + k for t in tokens for k in range(hmm_states)]
    else:
        frames = tokens
    return [f + 1 for f in frames]


def _decode_linear(graph, frames):
    hclg = fst.Fst.read(str(graph.fst_path))
    olabels, cost = best_output(hclg, frames)
    assert olabels is not None, "no path reads these frames"
    return [graph.word(w) for w in olabels], cost


@pytest.mark.parametrize("topology", ["ctc", "ctc-compact", "hmm", "identity"])
def test_every_topology_round_trips(topology, char_setup, tmp_path):
    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / topology,
                               lexicon=char_setup["lexicon"], lm=char_setup["lm"],
                               topology=topology, hmm_states=2, progress=False)
    assert graph.info["emission_columns"] == (len(char_setup["token_ids"]) * (2 if topology == "hmm" else 1))
    for sentence in TEST_SENTENCES:
        frames = _frames_for(sentence, char_setup["token_ids"], topology, hmm_states=2)
        words, _ = _decode_linear(graph, frames)
        assert words == sentence


def test_final_graph_keeps_g_costs(ctc_graph, char_setup):
    """With unit-cost pronunciations the best path through HCLG costs what the best path through
    G costs once #0 is an epsilon (Kaldi's epsilon approximation of backoff): det/min and the
    topology change no weight. That cost never exceeds the exact ARPA cost."""
    grammar = fst.Fst.read(str(ctc_graph.path / "G.fst"))
    words = read_words(ctc_graph.path / "words.txt")
    grammar.relabel_pairs(ipairs=[(words["#0"], 0)])
    model = kenlm.Model(str(char_setup["lm"]))
    for sentence in TEST_SENTENCES:
        word_ids = [words[w] for w in sentence]
        _, g_best = best_output(grammar, word_ids)
        _, cost = _decode_linear(ctc_graph, _frames_for(sentence, char_setup["token_ids"], "ctc"))
        assert cost == pytest.approx(g_best, abs=1e-3)
        exact = -math.log(10.0) * model.score(" ".join(sentence), bos=True, eos=True)
        assert cost <= exact + 1e-3


def test_spelling_mode_optional_boundary(char_setup, tmp_path):
    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "spell", spell=True,
                               lm=char_setup["lm"], word_boundary="|", boundary_mandatory=False,
                               progress=False)
    assert graph.info["word_boundary"] == {"token": "|", "token_id": 1, "optional": True}
    assert graph.info["lexicon_mode"] == "spell"
    for sentence in TEST_SENTENCES:
        for boundary in (None, "|"):
            frames = _frames_for(sentence, char_setup["token_ids"], "ctc", boundary=boundary)
            assert _decode_linear(graph, frames)[0] == sentence


def test_spelling_mode_mandatory_boundary(char_setup, tmp_path):
    """Spelling graphs make the boundary mandatory by default."""
    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "spell", spell=True,
                               lm=char_setup["lm"], word_boundary="|", progress=False)
    assert graph.info["word_boundary"]["optional"] is False
    assert graph.info["options"]["boundary_mandatory"] is True
    ids = char_setup["token_ids"]
    sentence = ["the", "cat", "sat"]
    with_boundary = _frames_for(sentence, ids, "ctc", boundary="|") + [ids["|"] + 1]
    words, cost = _decode_linear(graph, with_boundary)
    assert words == sentence
    # The last word may leave its boundary out (the model often does), at the same graph cost;
    # between words it stays mandatory.
    without_last = _frames_for(sentence, ids, "ctc", boundary="|")
    assert _decode_linear(graph, without_last) == (sentence, pytest.approx(cost))
    hclg = fst.Fst.read(str(graph.fst_path))
    assert best_output(hclg, _frames_for(sentence, ids, "ctc"))[0] is None
    # The decoder ends there in a final state, with the last word's frames.
    emissions = np.full((len(without_last), len(ids)), -12.0, dtype=np.float32)
    emissions[np.arange(len(without_last)), np.array(without_last) - 1] = 0.0
    result = pywfst.Decoder(graph).decode(emissions)
    assert result.words == sentence and result.reached_final
    assert result.word_spans == [(0, 3), (4, 7), (8, 10)]  # t h e | c a t | s a t


def test_bpe_mode(char_setup, tmp_path):
    pytest.importorskip("sentencepiece")
    model, processor, token_ids = train_bpe(char_setup["root"] / "corpus.txt", tmp_path)
    graph = pywfst.build_graph(tmp_path / "tokens.txt", tmp_path / "g", bpe_model=model,
                               lm=char_setup["lm"], progress=False)
    assert graph.info["lexicon_mode"] == "bpe"
    for sentence in TEST_SENTENCES:
        tokens = [token_ids[p] for w in sentence for p in processor.encode(w, out_type=str)]
        words, _ = _decode_linear(graph, [f + 1 for f in ctc_frames(tokens)])
        assert words == sentence


def test_lexiconp_costs_and_homophones(char_setup, tmp_path):
    """Two pronunciations of one word carry -ln(prob); homophones both stay reachable."""
    lexicon = tmp_path / "lexiconp.txt"
    lexicon.write_text("cat 1.0 c a t\ncat 0.25 k a t\nkat 1.0 c a t\ndog 1.0 d o g\n")
    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "g", lexicon=lexicon,
                               progress=False)
    ids = char_setup["token_ids"]
    loop_cost = math.log(3)  # uniform word loop over 3 words
    _, cost_c = _decode_linear(graph, [ids[c] + 1 for c in "cat"])
    words_k, cost_k = _decode_linear(graph, [ids[c] + 1 for c in "kat"])
    assert words_k == ["cat"]
    assert cost_c == pytest.approx(loop_cost, abs=1e-5)
    assert cost_k == pytest.approx(loop_cost - math.log(0.25), abs=1e-5)
    assert graph.info["num_pronunciations"] == 4 and len(graph.info["disambig_token_ids"]) == 3


def test_oov_policies(char_setup, tmp_path):
    lexicon = tmp_path / "lexicon.txt"
    kept = [w for w in char_setup["words"] if w not in ("judge", "court")]
    lexicon.write_text("".join(f"{w} {' '.join(w)}\n" for w in kept) + "<unk> z z z\n")
    dropped = pywfst.build_graph(char_setup["tokens"], tmp_path / "drop", lexicon=lexicon,
                                 lm=char_setup["lm"], progress=False)
    assert dropped.info["lm"]["oov_words"] == 2
    assert dropped.info["lm"]["oov_words_without_pronunciation"] == 2
    assert "judge" not in dropped.words
    spelled = pywfst.build_graph(char_setup["tokens"], tmp_path / "spell", lexicon=lexicon,
                                 lm=char_setup["lm"], oov="spell", progress=False)
    assert spelled.info["lm"]["oov_words_without_pronunciation"] == 0
    frames = _frames_for(["a", "judge"], char_setup["token_ids"], "ctc")
    assert _decode_linear(spelled, frames)[0] == ["a", "judge"]
    unk = pywfst.build_graph(char_setup["tokens"], tmp_path / "unk", lexicon=lexicon,
                             lm=char_setup["lm"], oov="unk", progress=False)
    assert unk.info["lm"]["ngram_counts_used"]["1"] < unk.info["lm"]["ngram_counts"]["1"]
    frames = _frames_for(["the", "zzz"], char_setup["token_ids"], "ctc")
    assert _decode_linear(unk, frames)[0] == ["the", "<unk>"]


def test_directory_contents_and_readers(ctc_graph):
    kaldifst = pytest.importorskip("kaldifst")
    names = {p.name for p in ctc_graph.path.iterdir()}
    assert {"HCLG.fst", "HCLG.csr", "words.txt", "tokens.txt", "L_disambig.fst", "G.fst",
            "graph.json"} <= names
    info = json.loads((ctc_graph.path / "graph.json").read_text())
    assert info["format_version"] == 1
    assert set(info["inputs"]) == {"tokens", "lexicon", "lm"}
    assert all(len(v["sha256"]) == 64 for v in info["inputs"].values())
    assert [s["stage"] for s in info["build"]["stages"]][-2:] == ["HCLG = T o LG",
                                                                   "write HCLG.fst, HCLG.csr"]
    hclg = kaldifst.StdVectorFst.read(str(ctc_graph.fst_path))
    assert hclg.num_states == info["fst_counts"]["HCLG"]["states"]
    reference = fst.Fst.read(str(ctc_graph.fst_path))
    assert reference.num_states() == hclg.num_states
    # Input labels are token id + 1 (no disambiguation symbol survives), outputs are word ids.
    max_ilabel = max(a.ilabel for s in reference.states() for a in reference.arcs(s))
    assert max_ilabel <= info["emission_columns"]
    max_olabel = max(a.olabel for s in reference.states() for a in reference.arcs(s))
    assert max_olabel < len(ctc_graph.words) - 3  # #0, <s>, </s> never appear


def test_graph_pickles_by_path(ctc_graph):
    import pickle

    clone = pickle.loads(pickle.dumps(ctc_graph))
    assert clone.path == ctc_graph.path and clone.info == ctc_graph.info
