"""Run-time class slots: a slot filled at run time decodes exactly like the entries compiled in."""

import math

import numpy as np
import pytest
from click.testing import CliRunner

import pywfst
from helpers import VOCABULARY, reweighted_copy, train_bpe, write_fst
from pywfst.cli import cli
from pywfst.synthetic import simulate_ctc_emissions

# New words, a multi-word term, LM words inside terms, terms that start with the letter LM words
# end with ("cat" + "tachycardia", "an" + "nausea": CTC needs a blank between the two), and a
# term that is a prefix of another ("heart" / "heart failure").
TERMS = ["metoprolol", "atrial fibrillation", "heart failure", "heart", "tachycardia", "nausea",
         "dose", "ran away", "habeas corpus", "tort"]
SHARE = 0.1


def jargon_text(terms):
    """A jargon lexicon for the static build (spelling graphs ignore the ARPAbet column)."""
    return "".join(f"{t}\t{' | '.join('AH0' for _ in t.split())}\tespeak\n" for t in terms)


@pytest.fixture(scope="module")
def graph_pairs(char_setup, tmp_path_factory):
    """(static, slot) graphs per topology: the terms compiled in vs. a class slot."""
    root = tmp_path_factory.mktemp("class_slots")
    jargon = root / "terms.txt"
    jargon.write_text(jargon_text(TERMS))
    pairs = {}
    for topology in ("ctc", "ctc-compact"):
        common = dict(spell=True, word_boundary="|", lm=char_setup["lm"], progress=False,
                      topology=topology)
        static = pywfst.build_graph(char_setup["tokens"], root / f"static-{topology}", **common,
                                    extra_lexicons=[jargon], extra_weight=SHARE)
        slot = pywfst.build_graph(char_setup["tokens"], root / f"slot-{topology}", **common,
                                  class_slots=["TERM"], class_weight=SHARE)
        pairs[topology] = static, slot
    return pairs


def random_sentences(count, seed):
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(count):
        words = []
        for _ in range(int(rng.integers(1, 6))):
            pool = TERMS if rng.random() < 0.4 else VOCABULARY
            words.extend(pool[int(rng.integers(len(pool)))].split())
        sentences.append(words)
    return sentences


def emissions_for(graph, words, rng, skip_boundary=0.3, **noise):
    """Simulated emissions; the optional '|' is left out between some words."""
    ids = []
    for index, word in enumerate(words):
        if index and rng.random() >= skip_boundary:
            ids.append(graph.tokens["|"])
        ids.extend(graph.tokens[c] for c in word)
    return simulate_ctc_emissions(ids, len(graph.tokens), rng, **noise)


@pytest.mark.parametrize("topology", ["ctc", "ctc-compact"])
def test_same_best_path_as_a_static_rebuild(graph_pairs, topology):
    static_graph, slot_graph = graph_pairs[topology]
    slot = pywfst.Decoder(slot_graph)
    slot.set_class("TERM", TERMS)
    found_terms = assert_same_as_static(pywfst.Decoder(static_graph), slot, static_graph,
                                        random_sentences(150, seed=3), seed=7)
    assert found_terms > 20  # the comparison covered class words, not only LM words


def assert_same_as_static(static, slot, static_graph, sentences, seed, emit=emissions_for):
    """The slot decoder finds the static one's words and costs; returns how many results hold
    a class term."""
    rng = np.random.default_rng(seed)
    found_terms = 0
    for words in sentences:
        emissions = emit(static_graph, words, rng, peak=5.0, noise=1.2, confusion=0.05)
        expected, got = static.decode(emissions), slot.decode(emissions)
        assert got.words == expected.words, words
        assert got.cost == pytest.approx(expected.cost, abs=1e-3), words
        assert got.acoustic_cost == pytest.approx(expected.acoustic_cost, abs=1e-3)
        assert got.reached_final == expected.reached_final, words
        found_terms += any(w in got.words for w in ("metoprolol", "tachycardia", "corpus"))
    return found_terms


def emissions_with_mandatory_boundary(graph, words, rng, **noise):
    """Simulated emissions with '|' after each word but, half of the time, the last."""
    ids = []
    for index, word in enumerate(words):
        ids.extend(graph.tokens[c] for c in word)
        if index + 1 < len(words) or rng.random() < 0.5:
            ids.append(graph.tokens["|"])
    return simulate_ctc_emissions(ids, len(graph.tokens), rng, **noise)


def test_entries_end_the_utterance_with_or_without_a_mandatory_boundary(char_setup, tmp_path):
    """With a mandatory '|' the last word may leave it out; a slot entry as well as a word."""
    jargon = tmp_path / "terms.txt"
    jargon.write_text(jargon_text(TERMS))
    common = dict(spell=True, word_boundary="|", boundary_mandatory=True, lm=char_setup["lm"],
                  progress=False)
    static_graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "static", **common,
                                      extra_lexicons=[jargon], extra_weight=SHARE)
    slot_graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "slot", **common,
                                    class_slots=["TERM"], class_weight=SHARE)
    assert slot_graph.info["class_slots"]["end_variants"]
    slot = pywfst.Decoder(slot_graph)
    slot.set_class("TERM", TERMS)
    # Half of them end with a term.
    sentences = random_sentences(120, seed=11)
    sentences = [words + (TERMS[i % len(TERMS)].split() if i % 2 else []) for i, words in
                 enumerate(sentences)]
    found_terms = assert_same_as_static(pywfst.Decoder(static_graph), slot, static_graph,
                                        sentences, seed=12, emit=emissions_with_mandatory_boundary)
    assert found_terms > 20
    # A last term without its '|' reaches a final state through the slot's end variant.
    rng = np.random.default_rng(0)
    ids = [slot_graph.tokens[c] for c in "the|metoprolol"]
    emissions = simulate_ctc_emissions(ids, len(slot_graph.tokens), rng, peak=8.0)
    result = slot.decode(emissions)
    assert result.words == ["the", "metoprolol"] and result.reached_final
    # Its span runs to the last non-blank frame (word times know it may lack its '|').
    last_char = max(t for t, column in enumerate(emissions.argmax(axis=1)) if column)
    assert result.word_spans[-1][1] == last_char
    slot.set_class("TERM", None)
    assert "metoprolol" not in slot.decode(
        simulate_ctc_emissions(ids, len(slot_graph.tokens), rng, peak=8.0)).words


@pytest.mark.parametrize("lm_weight, penalty", [(2.0, 0.0), (1.0, 1.2), (0.7, -0.8)])
def test_search_weights_apply_to_class_words(graph_pairs, tmp_path, lm_weight, penalty):
    """lm_weight scales the class's costs and each entry word pays the insertion penalty, as the
    static graph's terms do when its weights are scaled and penalised offline."""
    static_graph, slot_graph = graph_pairs["ctc"]
    static = pywfst.Decoder(reweighted_copy(static_graph, tmp_path / "g", lm_weight, penalty))
    slot = pywfst.Decoder(slot_graph, lm_weight=lm_weight, word_insertion_penalty=penalty)
    slot.set_class("TERM", TERMS)
    assert assert_same_as_static(static, slot, static_graph, random_sentences(60, seed=4),
                                 seed=5) > 5


def test_context_across_the_class_boundary(graph_pairs):
    """'cat' then 'tachycardia' with no blank between the t's reads 'catachycardia': the slot must
    refuse that reading exactly as the static graph does."""
    static_graph, slot_graph = graph_pairs["ctc"]
    tokens = static_graph.tokens
    columns = [tokens[c] for c in "cat"] + [tokens[c] for c in "tachycardia"]
    emissions = np.full((len(columns) + 2, len(tokens)), -20.0, dtype=np.float32)
    emissions[0, 0] = emissions[-1, 0] = 0.0
    for frame, column in enumerate(columns, start=1):
        emissions[frame, column] = 0.0
    static, slot = pywfst.Decoder(static_graph), pywfst.Decoder(slot_graph)
    slot.set_class("TERM", TERMS)
    expected, got = static.decode(emissions), slot.decode(emissions)
    assert got.words == expected.words and got.cost == pytest.approx(expected.cost, abs=1e-4)
    assert got.words != ["cat", "tachycardia"]
    emissions = np.insert(emissions, 4, np.where(np.arange(len(tokens)) == 0, 0.0, -20.0), axis=0)
    assert slot.decode(emissions).words == ["cat", "tachycardia"]  # with the blank, it reads


def test_empty_slot_and_clearing(graph_pairs):
    _, slot_graph = graph_pairs["ctc"]
    decoder = pywfst.Decoder(slot_graph)
    rng = np.random.default_rng(1)
    emissions = emissions_for(slot_graph, ["the", "metoprolol", "dose"], rng, skip_boundary=0.0)
    assert "metoprolol" not in decoder.decode(emissions).words
    decoder.set_class("TERM", ["metoprolol"])
    result = decoder.decode(emissions)
    assert result.words == ["the", "metoprolol", "dose"]
    spans = result.word_spans  # class words get their frames from their own spellings
    assert spans[1][0] > spans[0][1] and spans[2][0] > spans[1][1]
    decoder.set_class("TERM", None)
    assert "metoprolol" not in decoder.decode(emissions).words


def test_entry_weights_set_the_cost(graph_pairs):
    _, slot_graph = graph_pairs["ctc"]
    emissions = emissions_for(slot_graph, ["metoprolol"], np.random.default_rng(2))
    uniform, weighted = pywfst.Decoder(slot_graph), pywfst.Decoder(slot_graph)
    uniform.set_class("TERM", ["metoprolol", "tort"])
    weighted.set_class("TERM", {"metoprolol": 3.0, "tort": 1.0})
    a, b = uniform.decode(emissions), weighted.decode(emissions)
    assert a.words == b.words == ["metoprolol"]
    assert a.graph_cost - b.graph_cost == pytest.approx(math.log(2) + math.log(0.75), abs=1e-4)


def test_prepared_entries_are_shared_and_batch_equals_single(graph_pairs):
    _, slot_graph = graph_pairs["ctc"]
    prepared = pywfst.ClassEntries(slot_graph, "TERM", TERMS)
    assert len(prepared) == len(TERMS) and prepared.native.num_entries == len(TERMS)
    first, second = pywfst.Decoder(slot_graph), pywfst.Decoder(slot_graph, num_threads=2)
    first.set_class("TERM", prepared)
    second.set_class("TERM", prepared)
    rng = np.random.default_rng(5)
    batch = [emissions_for(slot_graph, words, rng, noise=1.0)
             for words in random_sentences(12, seed=9)]
    singles = [first.decode(e) for e in batch]
    for single, batched in zip(singles, second.decode_batch(batch)):
        assert single.words == batched.words and single.cost == pytest.approx(batched.cost)


def test_phone_graph_with_given_pronunciations(tmp_path):
    phones = ["<blk>"] + "M EH T OW P R L AA D AO G K AE".split()
    (tmp_path / "phones.txt").write_text("".join(f"{p} {i}\n" for i, p in enumerate(phones)))
    (tmp_path / "lexicon.txt").write_text("dog D AO G\ncat K AE T\n")
    (tmp_path / "jargon.txt").write_text("metoprolol\tM EH0 T OW1 P R OW0 L AA0 L\tespeak\n"
                                         "cat dog\tK AE1 T | D AO1 G\tcmudict\n")
    unigrams = "".join(f"{p}\t{w}\n" for p, w in (("-0.4771", "</s>"), ("-99", "<s>"),
                                                  ("-0.4771", "dog"), ("-0.4771", "cat")))
    (tmp_path / "lm.arpa").write_text(f"\\data\\\nngram 1=4\n\n\\1-grams:\n{unigrams}\n\\end\\\n")
    common = dict(lexicon=tmp_path / "lexicon.txt", lm=tmp_path / "lm.arpa", progress=False)
    static = pywfst.build_graph(tmp_path / "phones.txt", tmp_path / "static", **common,
                                extra_lexicons=[tmp_path / "jargon.txt"], extra_weight=0.2)
    slot_graph = pywfst.build_graph(tmp_path / "phones.txt", tmp_path / "slot", **common,
                                    class_slots=["DRUG"], class_weight=0.2)
    slot = pywfst.Decoder(slot_graph)
    with pytest.raises(ValueError, match="'metoprolol' is not a word .* pronunciations="):
        slot.set_class("DRUG", ["metoprolol"])
    slot.set_class("DRUG", ["metoprolol", "cat dog"],
                   pronunciations={"metoprolol": "M EH0 T OW1 P R OW0 L AA0 L"})
    rng = np.random.default_rng(4)
    table = static.tokens
    for words in (["dog", "metoprolol"], ["metoprolol", "cat", "dog"], ["cat", "cat"]):
        ids = [table[p] for w in words for p in
               {"dog": "D AO G", "cat": "K AE T", "metoprolol": "M EH T OW P R OW L AA L"}[w].split()]
        emissions = simulate_ctc_emissions(ids, len(table), rng, peak=6.0, noise=1.0)
        expected, got = pywfst.Decoder(static).decode(emissions), slot.decode(emissions)
        assert got.words == expected.words == words
        assert got.cost == pytest.approx(expected.cost, abs=1e-4)


def test_errors_name_the_problem(graph_pairs, char_setup, tmp_path):
    static_graph, slot_graph = graph_pairs["ctc"]
    decoder = pywfst.Decoder(slot_graph)
    with pytest.raises(ValueError, match="class slot 'DRUG' is not in .* its slots: TERM"):
        decoder.set_class("DRUG", ["x"])
    with pytest.raises(ValueError, match="slots: none"):
        pywfst.Decoder(static_graph).set_class("TERM", ["x"])
    with pytest.raises(ValueError, match="'caf\u00e9' cannot be spelled"):
        decoder.set_class("TERM", ["caf\u00e9"])
    with pytest.raises(ValueError, match="none given"):
        decoder.set_class("TERM", [])
    with pytest.raises(ValueError, match="an entry is empty"):
        decoder.set_class("TERM", ["ok", "  "])
    with pytest.raises(ValueError, match="weight nan"):
        decoder.set_class("TERM", {"ok": float("nan")})
    with pytest.raises(TypeError, match="not a string"):
        decoder.set_class("TERM", "metoprolol")
    other = pywfst.build_graph(char_setup["tokens"], tmp_path / "other", spell=True,
                               word_boundary="|", lm=char_setup["lm"], progress=False,
                               class_slots=["TERM"])
    with pytest.raises(ValueError, match="prepared for slot 'TERM' of"):
        decoder.set_class("TERM", pywfst.ClassEntries(other, "TERM", ["ok"]))
    for bad, message in ((["1x"], "not a valid name"), (["A", "A"], "repeat"), ("AB", "not a string")):
        with pytest.raises((ValueError, TypeError), match=message):
            pywfst.build_graph(char_setup["tokens"], tmp_path / "bad", spell=True,
                               lm=char_setup["lm"], progress=False, class_slots=bad)
    with pytest.raises(ValueError, match="together below 1"):
        pywfst.build_graph(char_setup["tokens"], tmp_path / "bad", spell=True, lm=char_setup["lm"],
                           progress=False, class_slots=["A", "B"], class_weight=0.6)
    assert not (tmp_path / "bad").exists()


def test_native_compiler_checks_entries(graph_pairs):
    from pywfst import _core
    from pywfst.class_slots import _compiler

    compiler = _compiler(graph_pairs["ctc"][1])

    def compile_words(labels, pronunciations, entries, costs):
        """The flat form of words (label, token-id sequences) and entries (word indices)."""
        flat = dict(labels=labels, pronunciation_offsets=[0], token_offsets=[0], tokens=[],
                    entry_offsets=[0], entry_words=[], costs=costs)
        for alternatives in pronunciations:
            for tokens in alternatives:
                flat["tokens"] += tokens
                flat["token_offsets"].append(len(flat["tokens"]))
            flat["pronunciation_offsets"].append(len(flat["token_offsets"]) - 1)
        for words in entries:
            flat["entry_words"] += words
            flat["entry_offsets"].append(len(flat["entry_words"]))
        return compiler.compile(**flat)

    assert compile_words([5, 6], [[[2, 3]], [[4]]], [[0, 1]], [0.0]).num_entries == 1
    with pytest.raises(ValueError, match="class word 1: token 99 is not a token"):
        compile_words([5, 6], [[[2, 3]], [[99]]], [[0]], [0.0])
    with pytest.raises(ValueError, match="class word 0: an empty pronunciation"):
        compile_words([5], [[[]]], [[0]], [0.0])
    with pytest.raises(ValueError, match="class word 0: no pronunciation"):
        compile_words([5], [[]], [[0]], [0.0])
    with pytest.raises(ValueError, match="class word 0: output label 0 is not > 0"):
        compile_words([0], [[[2]]], [[0]], [0.0])
    with pytest.raises(ValueError, match="class entry 0: cost inf is not finite"):
        compile_words([5], [[[2]]], [[0]], [float("inf")])
    with pytest.raises(ValueError, match="class entry 1: word index 1 is not one of the 1 words"):
        compile_words([5], [[[2]]], [[0], [0, 1]], [0.0, 0.0])
    with pytest.raises(ValueError, match="class entry 0: no words"):
        compile_words([5], [[[2]]], [[]], [0.0])
    with pytest.raises(ValueError, match="token_offsets: must rise from 0 to 1"):
        compiler.compile([5], [0, 1], [0, 2], [3], [0, 1], [0], [0.0])
    with pytest.raises(ValueError, match="one word slice per cost"):
        compiler.compile([5], [0, 1], [0, 1], [3], [0, 1], [0], [0.0, 1.0])
    topology = _core.CsrGraph.load(str(graph_pairs["ctc"][1].path / "topology.fst"))
    with pytest.raises(ValueError, match="contexts: 500 is not a state"):
        _core.ClassCompiler(topology, [0, 500], -1)


def _topology_compiler(tmp_path, arcs, num_states, optional_token=-1):
    from pywfst import _core

    write_fst(tmp_path / "topology.fst", arcs, range(num_states), num_states)
    topology = _core.CsrGraph.load(str(tmp_path / "topology.fst"))
    return _core.ClassCompiler(topology, [0], optional_token)


def _one_word(compiler, tokens):
    return compiler.compile([5], [0, 1], [0, len(tokens)], tokens, [0, 1], [0], [0.0])


def test_topology_that_reads_a_token_without_a_frame_is_refused(tmp_path):
    # Such a token lets a class entry be passed in no time: through the main graph's epsilon
    # arcs that is a cycle, of negative cost when the entry is boosted.
    blank_read, token_1_read = (0, 1, 1, 0.0, 0), (0, 2, 2, 0.0, 0)
    compiler = _topology_compiler(tmp_path, [blank_read, token_1_read, (0, 0, 3, 0.0, 0)], 1)
    assert _one_word(compiler, [1]).num_entries == 1
    with pytest.raises(ValueError, match="class word 0: the topology reads token 2 without a frame"):
        _one_word(compiler, [2])
    with pytest.raises(ValueError, match="optional_token: the topology reads token 2 without"):
        _topology_compiler(tmp_path, [blank_read, token_1_read, (0, 0, 3, 0.0, 0)], 1, 2)


def test_topology_with_a_negative_epsilon_cycle_is_refused(tmp_path):
    arcs = [(0, 1, 1, 0.0, 0), (0, 2, 2, 0.0, 1), (1, 0, 0, -1.0, 2), (2, 0, 0, 0.5, 1)]
    with pytest.raises(ValueError, match="class sub-graph: the epsilon arcs .* negative cost"):
        _one_word(_topology_compiler(tmp_path, arcs, 3), [1])
    arcs[3] = (2, 0, 0, 1.0, 1)
    assert _one_word(_topology_compiler(tmp_path, arcs, 3), [1]).num_entries == 1


def test_topology_with_huge_output_labels_compiles_in_small_memory(tmp_path):
    # A dense (state x label) table would need 64 states x 2^30 labels here.
    arcs = [(s, 1, 2, 0.0, (s + 1) % 64) for s in range(64)] + [(0, 0, 2**30, 0.0, 0)]
    assert _one_word(_topology_compiler(tmp_path, arcs, 64), [1, 1]).num_entries == 1


def test_cli_builds_slots(char_setup, tmp_path):
    result = CliRunner().invoke(cli, [
        "build-graph", "--tokens", str(char_setup["tokens"]), "--spell", "--word-boundary", "|",
        "--lm", str(char_setup["lm"]), "--class-slot", "DRUG", "--class-slot", "LAW",
        "--class-weight", "0.02", "--out", str(tmp_path / "g"), "--quiet"])
    assert result.exit_code == 0, result.output
    graph = pywfst.Graph.load(tmp_path / "g")
    assert [s["name"] for s in graph.info["class_slots"]["slots"]] == ["DRUG", "LAW"]
    assert graph.native.num_nonterminal_arcs > 0
    decoder = pywfst.Decoder(graph)
    decoder.set_class("LAW", ["habeas corpus"])
    rng = np.random.default_rng(0)
    emissions = emissions_for(graph, ["the", "habeas", "corpus"], rng, skip_boundary=0.0)
    assert decoder.decode(emissions).words == ["the", "habeas", "corpus"]
    info = CliRunner().invoke(cli, ["info", str(tmp_path / "g")])
    assert "class slots: DRUG, LAW" in info.output


def test_decode_cli_fills_slots_from_files(graph_pairs, tmp_path):
    _, slot_graph = graph_pairs["ctc"]
    rng = np.random.default_rng(3)
    np.save(tmp_path / "utt.npy", emissions_for(slot_graph, ["the", "metoprolol"], rng,
                                                skip_boundary=0.0))
    (tmp_path / "plain.txt").write_text("# drugs\nmetoprolol\t2.5\natrial fibrillation\n")
    (tmp_path / "jargon.txt").write_text(jargon_text(["metoprolol", "tort"]))
    base = ["decode", "--graph", str(slot_graph.path), str(tmp_path / "utt.npy")]
    runner = CliRunner()
    assert runner.invoke(cli, base).output.split()[1:] != ["the", "metoprolol"]
    for name in ("plain.txt", "jargon.txt"):
        result = runner.invoke(cli, base + ["--class", f"TERM={tmp_path / name}"])
        assert result.exit_code == 0, result.output
        assert result.output.split() == ["utt", "the", "metoprolol"]
    (tmp_path / "bad.txt").write_text("metoprolol\nx\t-1\n")
    failed = runner.invoke(cli, base + ["--class", f"TERM={tmp_path / 'bad.txt'}"])
    assert failed.exit_code != 0 and "bad.txt:2:" in failed.output
    failed = runner.invoke(cli, base + ["--class", "TERM"])
    assert failed.exit_code != 0 and "expected NAME=FILE" in failed.output


def test_bpe_graph_matches_static_rebuild(char_setup, tmp_path):
    pytest.importorskip("sentencepiece")
    model, processor, token_ids = train_bpe(char_setup["root"] / "corpus.txt", tmp_path)
    terms = ["metoprolol", "heart failure", "tort"]
    (tmp_path / "terms.txt").write_text(jargon_text(terms))
    common = dict(bpe_model=model, lm=char_setup["lm"], progress=False)
    static = pywfst.build_graph(tmp_path / "tokens.txt", tmp_path / "static", **common,
                                extra_lexicons=[tmp_path / "terms.txt"], extra_weight=SHARE)
    slot_graph = pywfst.build_graph(tmp_path / "tokens.txt", tmp_path / "slot", **common,
                                    class_slots=["TERM"], class_weight=SHARE)
    slot = pywfst.Decoder(slot_graph)
    slot.set_class("TERM", terms)
    rng = np.random.default_rng(11)
    for words in (["the", "metoprolol", "dose"], ["heart", "failure", "tort"], ["cat", "sat"]):
        ids = [token_ids[p] for w in words for p in processor.encode(w, out_type=str)]
        emissions = simulate_ctc_emissions(ids, len(token_ids), rng, peak=6.0, noise=1.0)
        expected, got = pywfst.Decoder(static).decode(emissions), slot.decode(emissions)
        assert got.words == expected.words == words
        assert got.cost == pytest.approx(expected.cost, abs=1e-4)


def test_nbest_and_boost_see_graph_words_as_one_word(graph_pairs):
    """An entry word the graph knows ("heart", "dose") keeps its graph id: n-best lists match the
    static graph's, and phrase boosting applies to it."""
    static_graph, slot_graph = graph_pairs["ctc"]
    static = pywfst.Decoder(static_graph, nbest=4)
    slot = pywfst.Decoder(slot_graph, nbest=4)
    slot.set_class("TERM", TERMS)
    rng = np.random.default_rng(8)
    for words in (["heart", "failure", "dose"], ["the", "heart", "rate"], ["metoprolol", "dose"]):
        emissions = emissions_for(static_graph, words, rng, noise=1.5)
        expected, got = static.decode(emissions).nbest, slot.decode(emissions).nbest
        assert [h.words for h in got] == [h.words for h in expected]
        assert [h.cost for h in got] == pytest.approx([h.cost for h in expected], abs=1e-3)
    emissions = emissions_for(slot_graph, ["heart", "failure"], rng, skip_boundary=0.0)
    boosted = pywfst.Decoder(slot_graph)
    boosted.set_class("TERM", TERMS)
    plain = boosted.decode(emissions)
    with_boost = boosted.decode(emissions, boost={"heart": 2.0})
    assert with_boost.words == plain.words == ["heart", "failure"]
    assert with_boost.boost_cost == pytest.approx(-2.0)


def test_spelling_lexicon_file_spells_new_entries(char_setup, tmp_path):
    """A graph built from a lexicon file that spells each word with its chars (lexicon mode)
    spells a new entry itself, as a spelling graph does; no pronunciations needed."""
    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "g",
                               lexicon=char_setup["lexicon"], lm=char_setup["lm"],
                               class_slots=["TERM"], progress=False)
    assert graph.info["lexicon_mode"] == "lexicon"
    decoder = pywfst.Decoder(graph)
    decoder.set_class("TERM", ["metoprolol", "habeas corpus"])
    rng = np.random.default_rng(11)
    tokens = graph.tokens
    ids = [tokens[c] for c in "themetoprolol"]
    emissions = simulate_ctc_emissions(ids, len(tokens), rng, peak=6.0, noise=0.5)
    assert decoder.decode(emissions).words == ["the", "metoprolol"]


def test_lattices_refuse_filled_class_slots(graph_pairs):
    _, slot = graph_pairs["ctc"]
    decoder = pywfst.Decoder(slot, lattice=True)
    emissions = emissions_for(slot, ["the", "heart"], np.random.default_rng(3))
    assert decoder.decode(emissions).lattice.best_path().word_ids  # an empty slot is no slot
    decoder.set_class("TERM", TERMS)
    with pytest.raises(ValueError, match="lattice: lattices of graphs with filled class slots"):
        decoder.decode(emissions)
