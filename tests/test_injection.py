"""Build-time injection of jargon lexicons: the terms join L and G as a word class."""

import math

import numpy as np
import pytest
import pywrapfst as fst
from click.testing import CliRunner

import pywfst
from helpers import best_output, ctc_frames, read_words
from pywfst.cli import cli
from pywfst.graph.injection import unigram_state
from pywfst.synthetic import simulate_ctc_emissions

JARGON = """# test jargon lexicon
metoprolol\tM EH0 T OW1 P R OW0 L AA0 L\tespeak
atrial fibrillation\tEY1 T R IY0 AH0 L | F IH2 B R IH0 L EY1 SH AH0 N\tmixed
heart failure\tHH AA1 R T | F EY1 L Y ER0\tcmudict
heart\tHH AA1 R T\tcmudict
heart rate\tHH AA1 R T | R EY1 T\tcmudict
"""
# "heart" + LM word "rate" reads like the phrase "heart rate": the #1 exit keeps L∘G
# determinizable (without it the build never ends).
NUM_TERMS = 5


@pytest.fixture(scope="module")
def jargon_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("jargon") / "medical.txt"
    path.write_text(JARGON)
    return path


@pytest.fixture(scope="module")
def graphs(char_setup, jargon_file, tmp_path_factory):
    root = tmp_path_factory.mktemp("injected")
    common = dict(spell=True, word_boundary="|", lm=char_setup["lm"], progress=False)
    plain = pywfst.build_graph(char_setup["tokens"], root / "plain", **common)
    injected = pywfst.build_graph(char_setup["tokens"], root / "injected", **common,
                                  extra_lexicons=[jargon_file], extra_weight=0.1)
    return plain, injected


def test_new_words_enter_lexicon_and_info(graphs):
    plain, injected = graphs
    words = read_words(injected.path / "words.txt")
    for new in ("metoprolol", "atrial", "fibrillation", "failure"):
        assert new in words and new not in read_words(plain.path / "words.txt")
    extra = injected.info["extra_vocabulary"]
    assert extra["terms"] == NUM_TERMS and extra["new_words"] == 4 and extra["share"] == 0.1
    assert "extra_lexicon_0" in injected.info["inputs"]
    assert "metoprolol m e t o p r o l o l" in (injected.path / "pronunciations.txt").read_text()


def test_class_takes_its_share_of_the_unigram_mass(graphs):
    plain, injected = graphs
    words = read_words(injected.path / "words.txt")
    before = fst.Fst.read(str(plain.path / "G.fst"))
    after = fst.Fst.read(str(injected.path / "G.fst"))

    def mass(grammar, state, backoff_id):
        total = math.exp(-float(grammar.final(state)))
        for arc in grammar.arcs(state):
            if arc.ilabel != backoff_id:
                total += math.exp(-float(arc.weight))
        return total

    plain_backoff = read_words(plain.path / "words.txt")["#0"]
    lm_mass = mass(before, unigram_state(before, plain_backoff), plain_backoff)
    assert lm_mass == pytest.approx(1.0, abs=1e-3)  # the ARPA's unigrams (with </s>)
    unigram = unigram_state(after, words["#0"])
    assert mass(after, unigram, words["#0"]) == pytest.approx(0.9 * lm_mass, rel=1e-5)
    class_arcs = [a for a in after.arcs(unigram) if a.ilabel == words["#0"]]
    assert len(class_arcs) == 1 and float(class_arcs[0].weight) == pytest.approx(-math.log(0.1))
    entry = class_arcs[0].nextstate
    firsts = sorted(words_by_id(words)[a.ilabel] for a in after.arcs(entry))
    assert firsts == ["atrial", "heart", "heart", "heart", "metoprolol"]
    assert all(float(a.weight) == pytest.approx(math.log(NUM_TERMS)) for a in after.arcs(entry))
    exits = [a for s in after.states() for a in after.arcs(s) if a.ilabel == words["#1"]]
    assert len(exits) == 1 and exits[0].nextstate == unigram and float(exits[0].weight) == 0.0


def words_by_id(words):
    return {i: w for w, i in words.items()}


def sentence_frames(graph, sentence):
    tokens = graph.tokens
    ids = []
    for index, word in enumerate(sentence):
        if index:
            ids.append(tokens["|"])
        ids.extend(tokens[c] for c in word)
    return ids


@pytest.mark.parametrize("sentence", [["the", "patient", "metoprolol"],
                                      ["atrial", "fibrillation", "is", "high"],
                                      ["heart", "failure"]])
def test_terms_are_decoded_only_with_injection(graphs, sentence):
    plain, injected = graphs
    rng = np.random.default_rng(len(sentence))
    ids = sentence_frames(injected, sentence)
    emissions = simulate_ctc_emissions(ids, len(injected.tokens), rng, peak=8.0, noise=0.5)
    assert pywfst.Decoder(injected).decode(emissions).words == sentence
    assert pywfst.Decoder(plain).decode(emissions).words != sentence


def test_hclg_cost_of_a_term_path(graphs):
    """The cheapest HCLG path for 'metoprolol' alone costs what G's class path costs."""
    _, injected = graphs
    words = read_words(injected.path / "words.txt")
    grammar = fst.Fst.read(str(injected.path / "G.fst"))
    backoff = {a.ilabel: a for a in grammar.arcs(grammar.start())}[words["#0"]]
    unigram = backoff.nextstate
    expected = (float(backoff.weight) - math.log(0.1) + math.log(NUM_TERMS)
                + float(grammar.final(unigram)))
    frames = [f + 1 for f in ctc_frames([injected.tokens[c] for c in "metoprolol"])]
    olabels, cost = best_output(fst.Fst.read(str(injected.fst_path)), frames)
    assert [injected.word(w) for w in olabels] == ["metoprolol"]
    assert cost == pytest.approx(expected, abs=1e-4)


def test_phone_lexicon_maps_arpabet_and_reports_missing_phones(char_setup, tmp_path):
    phones = ["<blk>"] + "M EH T OW P R L AA HH F EY Y ER D AO G K AE".split()
    (tmp_path / "phones.txt").write_text("".join(f"{p} {i}\n" for i, p in enumerate(phones)))
    (tmp_path / "lexicon.txt").write_text("dog D AO G\ncat K AE T\n")
    (tmp_path / "jargon.txt").write_text("metoprolol\tM EH0 T OW1 P R OW0 L AA0 L\tespeak\n")
    graph = pywfst.build_graph(tmp_path / "phones.txt", tmp_path / "g",
                               lexicon=tmp_path / "lexicon.txt", progress=False,
                               extra_lexicons=[tmp_path / "jargon.txt"])
    assert "metoprolol M EH T OW P R OW L AA L" in (graph.path / "pronunciations.txt").read_text()
    (tmp_path / "bad.txt").write_text("# header\nzyx\tZ IY1 K S\tespeak\n")
    with pytest.raises(pywfst.InputFileError, match=r"bad.txt:2: phone 'Z'"):
        pywfst.build_graph(tmp_path / "phones.txt", tmp_path / "g2",
                           lexicon=tmp_path / "lexicon.txt", progress=False,
                           extra_lexicons=[tmp_path / "bad.txt"])
    assert not (tmp_path / "g2").exists()


def test_bad_weight_and_cli(char_setup, jargon_file, tmp_path):
    with pytest.raises(ValueError, match="extra_weight"):
        pywfst.build_graph(char_setup["tokens"], tmp_path / "g", spell=True, lm=char_setup["lm"],
                           extra_lexicons=[jargon_file], extra_weight=1.5, progress=False)
    result = CliRunner().invoke(cli, [
        "build-graph", "--tokens", str(char_setup["tokens"]), "--spell", "--word-boundary", "|",
        "--lm", str(char_setup["lm"]), "--extra-lexicon", str(jargon_file),
        "--extra-weight", "0.2", "--out", str(tmp_path / "cli"), "--quiet"])
    assert result.exit_code == 0, result.output
    graph = pywfst.Graph.load(tmp_path / "cli")
    assert graph.info["extra_vocabulary"]["share"] == 0.2
    assert "fibrillation" in read_words(graph.path / "words.txt")
