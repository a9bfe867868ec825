"""Native DeterminizeStar (``_core.determinize_star``): the same graph as Kaldi's
fstdeterminizestar (through kaldifst), state for state and arc for arc, on L ∘ G of real builds
and on random transducers with epsilons and delayed outputs; what Kaldi refuses as not functional
it refuses too, and Ctrl-C stops one that can never be determinized."""

import random
import subprocess
import sys
import textwrap

import kaldifst
import pytest
import pywrapfst as fst

from pywfst import _core
from pywfst.graph.compose import DETERMINIZE_DELTA


def states_and_arcs(graph):
    """Start, then per state its final weight and its arcs in label order (the native graph
    keeps a state's emitting arcs before its epsilon arcs, Kaldi's output the final output's
    epsilon arc first): equal lists mean the same states, numbered alike, and the same arcs."""
    return graph.start(), [
        (float(graph.final(s)), sorted((a.ilabel, a.olabel, float(a.weight), a.nextstate)
                          for a in graph.arcs(s)))
        for s in graph.states()]


def kaldi_determinized(path, out):
    graph = kaldifst.StdVectorFst.read(str(path))
    kaldifst.determinize_star(graph, delta=DETERMINIZE_DELTA)
    graph.write(str(out))
    return fst.Fst.read(str(out))


def native_determinized(path, out):
    _core.determinize_star(_core.CsrGraph.load(path), DETERMINIZE_DELTA).write_fst(out)
    return fst.Fst.read(str(out))


def test_the_same_lg_as_kaldis(intermediate_graph, tmp_path):
    lexicon = kaldifst.StdVectorFst.read(str(intermediate_graph.path / "L_disambig.fst"))
    grammar = kaldifst.StdVectorFst.read(str(intermediate_graph.path / "G.fst"))
    kaldifst.compose(lexicon, grammar, connect=False).write(str(tmp_path / "LG.fst"))
    ours = native_determinized(tmp_path / "LG.fst", tmp_path / "native.fst")
    reference = kaldi_determinized(tmp_path / "LG.fst", tmp_path / "kaldi.fst")
    assert states_and_arcs(ours) == states_and_arcs(reference)
    assert ours.num_states() > 100
    # The native composition numbers its states otherwise; subsets are found in label order, so
    # the determinized graph is the same (what the build runs).
    composed = _core.compose(_core.CsrGraph.load(intermediate_graph.path / "L_disambig.fst"),
                             _core.CsrGraph.load(intermediate_graph.path / "G.fst"))
    _core.determinize_star(composed, DETERMINIZE_DELTA).write_fst(tmp_path / "all_native.fst")
    assert states_and_arcs(fst.Fst.read(str(tmp_path / "all_native.fst"))) == \
        states_and_arcs(reference)
    # The mandatory boundary leaves a final output due: input epsilon arcs on new states.
    if intermediate_graph.path.name == "spell-mandatory-boundary":
        assert any(a.ilabel == 0 for s in ours.states() for a in ours.arcs(s))


def random_transducer(rng, path):
    """An acyclic transducer of up to 20 states: arcs go at most 3 states forward (so any
    functional one can be determinized, and paths meet often), a sixth of them input epsilons, a
    fifth with an output, weights on a grid of quarters with some off it by less than the delta
    (so subsets may differ only within it)."""
    n = rng.randint(2, 20)
    graph = fst.VectorFst()
    graph.add_states(n)
    graph.set_start(0)
    for s in range(n):
        if s == n - 1 or rng.random() < 0.3:
            graph.set_final(s, rng.choice([0.0, 0.25, 1.5]))
        for _ in range(rng.randint(1, 3) if s + 1 < n else 0):
            ilabel = rng.choice([0, 1, 2, 3, 4, 5])
            olabel = rng.choice([5, 6, 7]) if rng.random() < 0.2 else 0
            weight = rng.choice([0.0, 0.25, 0.5, 1.0, 2.75]) + rng.choice([0.0, 0.0, 1e-4])
            graph.add_arc(s, fst.Arc(ilabel, olabel, weight, rng.randrange(s + 1, min(n, s + 4))))
    graph.write(str(path))


def test_random_transducers_determinize_as_kaldi_does(tmp_path):
    rng = random.Random(7)
    outcomes = {"same graph": 0, "refused": 0}
    for _ in range(300):
        random_transducer(rng, tmp_path / "random.fst")
        try:
            reference = kaldi_determinized(tmp_path / "random.fst", tmp_path / "kaldi.fst")
        except RuntimeError as error:
            assert "not functional" in str(error)
            with pytest.raises(ValueError, match="not functional"):
                native_determinized(tmp_path / "random.fst", tmp_path / "native.fst")
            outcomes["refused"] += 1
            continue
        ours = native_determinized(tmp_path / "random.fst", tmp_path / "native.fst")
        assert states_and_arcs(ours) == states_and_arcs(reference)
        outcomes["same graph"] += 1
    # Both kinds, many of each (the generator's mix gives about one functional in two; their
    # determinized graphs have 8 states on average, up to 33).
    assert outcomes["same graph"] > 100 and outcomes["refused"] > 100, outcomes


def test_refuses_a_transducer_with_two_outputs_for_one_input_and_a_bad_delta(tmp_path):
    graph = fst.VectorFst()
    graph.add_states(3)
    graph.set_start(0)
    graph.set_final(2)
    graph.add_arc(0, fst.Arc(1, 5, 0.5, 1))
    graph.add_arc(0, fst.Arc(1, 6, 0.5, 1))
    graph.add_arc(1, fst.Arc(2, 0, 0.5, 2))
    graph.write(str(tmp_path / "two.fst"))
    loaded = _core.CsrGraph.load(tmp_path / "two.fst")
    with pytest.raises(ValueError, match=r"not functional.*state 1 with outputs \[5\] and \[6\]"):
        _core.determinize_star(loaded, DETERMINIZE_DELTA)
    for delta in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="delta must be a finite number > 0"):
            _core.determinize_star(loaded, delta)


def test_ctrl_c_stops_a_graph_that_cannot_be_determinized(tmp_path):
    # Two paths read a, then b forever, one at cost 1 a step, the other at 2: their difference
    # grows without end, so every step is a new subset (no twins property) and the loop is endless.
    graph = fst.VectorFst()
    graph.add_states(3)
    graph.set_start(0)
    for state, cost in ((1, 1.0), (2, 2.0)):
        graph.set_final(state)
        graph.add_arc(0, fst.Arc(1, 0, cost, state))
        graph.add_arc(state, fst.Arc(2, 0, cost, state))
    graph.write(str(tmp_path / "endless.fst"))
    code = textwrap.dedent(f"""
        import os, signal, threading
        from pywfst import _core
        graph = _core.CsrGraph.load({str(tmp_path / "endless.fst")!r})
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            _core.determinize_star(graph, 1 / 1024)
        except KeyboardInterrupt:
            print("interrupted")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "interrupted"
