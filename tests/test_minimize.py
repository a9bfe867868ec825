"""Native minimization (``_core.minimize_encoded``): the same minimal graph as Kaldi's
fstminimizeencoded (through kaldifst) on the LGs of real builds and on random deterministic
transducers made to have many equivalent states."""

import random

import kaldifst
import pytest
import pywrapfst as fst

from helpers import num_arcs
from pywfst import _core
from pywfst.graph.compose import WEIGHT_DELTA


def kaldi_minimized(path, delta, out):
    graph = kaldifst.StdVectorFst.read(str(path))
    kaldifst.minimize_encoded(graph, delta=delta)
    graph.write(str(out))
    return fst.Fst.read(str(out))


def native_minimized(path, delta, out):
    minimal = _core.minimize_encoded(_core.CsrGraph.load(path), delta)
    minimal.write_fst(out)
    return minimal, fst.Fst.read(str(out))


def assert_same_minimal_graph(det_path, tmp_path, delta=WEIGHT_DELTA):
    native, ours = native_minimized(det_path, delta, tmp_path / "native.fst")
    reference = kaldi_minimized(det_path, delta, tmp_path / "kaldi.fst")
    assert ours.num_states() == reference.num_states() == native.num_states
    assert num_arcs(ours) == num_arcs(reference)
    # Weights too: both quantize to the same grid, so they agree to the bit.
    assert fst.isomorphic(ours, reference, delta=1e-12)
    return native


def test_the_same_minimal_lg_as_kaldis(intermediate_graph, tmp_path):
    lexicon = kaldifst.StdVectorFst.read(str(intermediate_graph.path / "L_disambig.fst"))
    grammar = kaldifst.StdVectorFst.read(str(intermediate_graph.path / "G.fst"))
    lg = kaldifst.compose(lexicon, grammar, connect=False)
    kaldifst.determinize_star(lg)
    lg.write(str(tmp_path / "det_LG.fst"))
    native = assert_same_minimal_graph(tmp_path / "det_LG.fst", tmp_path)
    assert native.num_states < lg.num_states  # there was something to merge
    # The build wrote this graph as its LG.fst.
    assert fst.isomorphic(fst.Fst.read(str(intermediate_graph.path / "LG.fst")),
                          fst.Fst.read(str(tmp_path / "native.fst")), delta=1e-12)
    # Breadth-first numbering: every state but the start is first reached from a lower one.
    first_reached = {native.start: -1}
    for s in range(native.num_states):
        for arc in native.arcs(s):
            first_reached.setdefault(arc[3], s)
    assert sorted(first_reached) == list(range(native.num_states))
    assert all(first_reached[s] < s for s in range(1, native.num_states))


def random_redundant_transducer(seed, path):
    """A deterministic transducer whose states are copies of the states of a small random one:
    each copy has its original's arcs (labels, outputs, weights) and final weight, its arcs going
    to random copies of the originals' targets, so copies of one state are equivalent. Some
    weights differ from their original's by less than the quantization step, and some states
    are unreachable."""
    rng = random.Random(seed)
    small = rng.randint(2, 12)
    weights = [0.0, 0.5, 1.25, 2.0]
    pattern = []
    for _ in range(small):
        labels = rng.sample(range(0, 6), rng.randint(0, 4))  # label 0: an input epsilon arc
        arcs = [(label, rng.choice([0, 1, 2]), rng.choice(weights), rng.randrange(small))
                for label in labels]
        pattern.append((rng.choice([float("inf"), 0.0, 0.5]), arcs))
    pattern[0] = (0.0, pattern[0][1])  # the start accepts something
    copies = rng.randint(1, 5)
    total = small * copies + 3
    graph = fst.VectorFst()
    graph.add_states(total)
    graph.set_start(0)
    for state in range(total):
        final, arcs = pattern[state % small]
        if final != float("inf"):
            graph.set_final(state, final)
        for ilabel, olabel, weight, target in arcs:
            jitter = rng.choice([0.0, 1e-8]) if weight else 0.0
            nextstate = target + small * rng.randrange(copies)
            graph.add_arc(state, fst.Arc(ilabel, olabel, weight + jitter, nextstate))
    graph.write(str(path))


@pytest.mark.parametrize("seed", range(40))
def test_random_transducers_minimize_as_kaldi_does(seed, tmp_path):
    random_redundant_transducer(seed, tmp_path / "random.fst")
    assert_same_minimal_graph(tmp_path / "random.fst", tmp_path)
    assert_same_minimal_graph(tmp_path / "random.fst", tmp_path, delta=1 / 1024)


def test_refuses_a_nondeterministic_graph_and_a_bad_delta(tmp_path):
    graph = fst.VectorFst()
    graph.add_states(3)
    graph.set_start(0)
    graph.set_final(1)
    graph.set_final(2)
    for nextstate in (1, 2):
        graph.add_arc(0, fst.Arc(3, 4, 0.5, nextstate))
    graph.write(str(tmp_path / "nondeterministic.fst"))
    native = _core.CsrGraph.load(tmp_path / "nondeterministic.fst")
    with pytest.raises(ValueError, match="state 0 has two arcs with the same labels"):
        _core.minimize_encoded(native, WEIGHT_DELTA)
    for delta in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="delta"):
            _core.minimize_encoded(native, delta)
    empty = fst.VectorFst()
    empty.set_start(empty.add_state())
    empty.add_arc(0, fst.Arc(3, 4, 0.5, 0))
    empty.write(str(tmp_path / "empty.fst"))
    with pytest.raises(ValueError, match="no path from the start reaches a final state"):
        _core.minimize_encoded(_core.CsrGraph.load(tmp_path / "empty.fst"), WEIGHT_DELTA)
