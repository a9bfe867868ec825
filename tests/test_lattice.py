"""Word lattices, confidences and MBR from the n-best list (pywfst.lattice)."""

import math

import pytest

import pywfst
from helpers import simulated_utterances
from pywfst.errors import InputFileError
from pywfst.lattice import Lattice, minimum_bayes_risk, posteriors, read_kaldi_lattices
from pywfst.result import Result


@pytest.fixture(scope="module")
def decoded(spelled_graph, char_setup):
    decoder = pywfst.Decoder(spelled_graph, nbest=8, lattice_beam=12.0)
    sentences = char_setup["sentences"][:16]
    emissions = simulated_utterances(char_setup, 16, seed=31, peak=3.0, noise=1.6)
    return [(s, decoder.decode(e)) for s, e in zip(sentences, emissions)]


def _as_paths(result):
    return sorted((tuple(h.word_ids), h.alignment) for h in result.nbest)


def test_lattice_paths_are_the_nbest_hypotheses(decoded):
    several = 0
    for _, result in decoded:
        lattice = result.lattice
        paths = list(lattice.paths())
        assert sorted((tuple(p.word_ids), p.alignment) for p in paths) == _as_paths(result)
        by_words = {tuple(p.word_ids): (p.graph_cost, p.acoustic_cost) for p in paths}
        for h in result.nbest:
            graph, acoustic = by_words[tuple(h.word_ids)]
            assert graph + acoustic == pytest.approx(h.cost, abs=1e-6)
            assert acoustic == pytest.approx(h.acoustic_cost, abs=1e-6)
        best = lattice.best_path()
        assert best.word_ids == result.word_ids and best.alignment == result.alignment
        assert best.cost == pytest.approx(result.cost, abs=1e-6)
        assert [tuple(p[0]) for p in lattice.nbest(3)] == [tuple(h.word_ids)
                                                           for h in result.nbest[:3]]
        # Determinized: no state has two arcs with the same word.
        seen = set()
        for arc in lattice.arcs:
            assert (arc.source, arc.word_id) not in seen
            seen.add((arc.source, arc.word_id))
        several += len(result.nbest) > 1
    assert several >= 10


def test_openfst_shortest_paths_agree(decoded):
    fst = pytest.importorskip("pywrapfst")
    for _, result in decoded[:6]:
        machine = result.lattice.to_openfst()
        best = fst.shortestpath(machine, nshortest=len(result.nbest), unique=True)
        found = []
        for path in _fst_paths(best):
            found.append(path)
        expected = sorted((tuple(h.word_ids), round(h.cost, 3)) for h in result.nbest)
        assert sorted((ids, round(cost, 3)) for ids, cost in found) == expected


def _fst_paths(machine):
    stack = [(machine.start(), (), 0.0)]
    while stack:
        state, ids, cost = stack.pop()
        final = float(machine.final(state))
        if final != math.inf:
            yield ids, cost + final
        for arc in machine.arcs(state):
            stack.append((arc.nextstate, ids + ((arc.olabel,) if arc.olabel else ()),
                          cost + float(arc.weight)))


def test_kaldi_text_round_trip(decoded, tmp_path):
    path = tmp_path / "lat.txt"
    with open(path, "w") as out:
        for index, (_, result) in enumerate(decoded):
            result.lattice.write_kaldi(out, f"utt{index}")
    read = read_kaldi_lattices(path)
    assert list(read) == [f"utt{i}" for i in range(len(decoded))]
    for index, (_, result) in enumerate(decoded):
        again = sorted(read[f"utt{index}"].paths(), key=lambda p: p[0])
        original = sorted(result.lattice.paths(), key=lambda p: p[0])
        assert [(p[0], p[3]) for p in again] == [(p[0], p[3]) for p in original]
        for a, b in zip(again, original):
            assert a[1] == pytest.approx(b[1], rel=1e-7, abs=1e-5)
            assert a[2] == pytest.approx(b[2], rel=1e-7, abs=1e-5)
    text = path.read_text().splitlines()
    assert text[0] == "utt0" and len(text[1].split("\t")) == 4


@pytest.mark.parametrize("content, line", [("u\n0 1 5\n", 2), ("u\n0 x 5 1,2,3\n", 2),
                                           ("u\n0 1 5 1,2\n", 2), ("u v\n", 1),
                                           ("u\n0 1 5 1,2,0_1\n", 2)])
def test_malformed_kaldi_lattices_name_the_line(tmp_path, content, line):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(InputFileError, match=f"bad.txt:{line}:"):
        read_kaldi_lattices(path)


def test_confidences_separate_right_from_wrong_words(decoded):
    right, wrong = [], []
    for sentence, result in decoded:
        assert len(result.confidences) == len(result.words)
        assert all(0.0 <= c <= 1.0 for c in result.confidences)
        truth = set(sentence)
        for word, confidence in zip(result.words, result.confidences):
            (right if word in truth else wrong).append(confidence)
    assert right and wrong
    assert sum(right) / len(right) > sum(wrong) / len(wrong) + 0.1


def _fake(words, cost):
    """A result whose word ids follow its words (confidences compare ids)."""
    return Result(words=words, word_ids=[ord(w[0]) for w in words], word_frames=[],
                  alignment=[], cost=cost, acoustic_cost=0.0, graph_cost=cost,
                  reached_final=True, num_frames=0)


def test_posteriors_confidences_and_mbr_by_hand():
    # MAP "a b c" (p .4) vs "a x c" (.3) and "a x d" (.3): MBR prefers "a x c", which is at
    # most one error from every hypothesis.
    costs = [-math.log(0.4), -math.log(0.3), -math.log(0.3)]
    hypotheses = [_fake(["a", "b", "c"], costs[0]), _fake(["a", "x", "c"], costs[1]),
                  _fake(["a", "x", "d"], costs[2])]
    assert posteriors(hypotheses) == pytest.approx([0.4, 0.3, 0.3])
    assert minimum_bayes_risk(hypotheses).words == ["a", "x", "c"]
    best = Result(**{**hypotheses[0].__dict__, "nbest": hypotheses})
    assert best.confidences == pytest.approx([1.0, 0.4, 0.7])
    assert best.mbr.words == ["a", "x", "c"]
    # its confidences over the same list: "a" everywhere, "x" in .6 of it, "c" in .7
    assert best.mbr.confidences == pytest.approx([1.0, 0.6, 0.7])
    lone = _fake(["a"], 1.0)
    assert lone.confidences is None and lone.mbr is lone
    assert lone.lattice.best_path()[0] == [ord("a")]


def test_confidence_of_an_empty_best_path():
    hypotheses = [_fake([], 0.1), _fake(["a"], 0.5)]
    best = Result(**{**hypotheses[0].__dict__, "nbest": hypotheses})
    assert best.confidences == [] and best.lattice.best_path()[0] == []
    assert isinstance(Lattice.from_hypotheses(hypotheses).finals[0][0], float)


def test_cli_writes_confidences_and_lattices(spelled_graph, char_setup, tmp_path):
    import json

    import numpy as np
    from click.testing import CliRunner

    from pywfst.cli import cli

    emissions = simulated_utterances(char_setup, 4, seed=32, peak=3.0, noise=1.6)
    np.savez(tmp_path / "set.npz", **{f"u{i}": e for i, e in enumerate(emissions)})
    graph, data = str(spelled_graph.path), str(tmp_path / "set.npz")
    ctm = CliRunner().invoke(cli, ["decode", "--graph", graph, "--nbest", "6", "--format", "ctm",
                                   "--lattices", str(tmp_path / "lat.txt"), data])
    assert ctm.exit_code == 0, ctm.output
    rows = [line.split() for line in ctm.output.strip().splitlines()]
    assert rows and all(len(row) == 6 and 0.0 <= float(row[5]) <= 1.0 for row in rows)
    expected = pywfst.Decoder(spelled_graph, nbest=6)
    lattices = read_kaldi_lattices(tmp_path / "lat.txt")
    for i, e in enumerate(emissions):
        result = expected.decode(e)
        assert [row[4] for row in rows if row[0] == f"u{i}"] == result.words
        assert [float(row[5]) for row in rows if row[0] == f"u{i}"] == pytest.approx(
            result.confidences, abs=1e-3)
        assert lattices[f"u{i}"].best_path()[0] == result.word_ids
    lines = CliRunner().invoke(cli, ["decode", "--graph", graph, "--nbest", "6", "--format",
                                     "json", data]).output.strip().splitlines()
    assert all("confidence" in w for line in lines for w in json.loads(line)["words"])
    plain = CliRunner().invoke(cli, ["decode", "--graph", graph, "--format", "ctm", data])
    assert all(len(line.split()) == 5 for line in plain.output.strip().splitlines())
