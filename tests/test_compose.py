"""The native composition (L ∘ G and T ∘ LG) and the OpenFst writer: the same transducer as
OpenFst's own composition for every topology (class slots included) and for lexicons and
spellings with G, in files OpenFst reads back."""

import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import pywrapfst as fst

import pywfst
from pywfst import _core
from helpers import num_arcs


@pytest.fixture(scope="module", params=["ctc", "ctc-compact", "hmm", "ctc-mandatory-boundary"])
def built(request, char_setup, tmp_path_factory):
    """A graph directory with T.fst and LG.fst kept, and a class slot (nonterminal arcs). With a
    mandatory boundary that the last word may leave out, LG has input epsilon arcs (the word
    output due at a final state), so the composition needs its epsilon filter."""
    out = tmp_path_factory.mktemp("compose") / request.param
    if request.param == "ctc-mandatory-boundary":
        words = {"spell": True, "word_boundary": "|", "boundary_mandatory": True}
    else:
        words = {"lexicon": char_setup["lexicon"], "topology": request.param}
    return pywfst.build_graph(char_setup["tokens"], out, lm=char_setup["lm"], hmm_states=2,
                              class_slots=["names"], keep_intermediate=True, progress=False,
                              **words)


def composed_as_openfst_does(left_path, right_path, tmp_path):
    """The native composition of two graph files, checked against pywrapfst's (connect=False,
    so OpenFst's states are all kept): the same states and arcs. Returns the native graph, it
    as written and read back by OpenFst, and OpenFst's own."""
    native = _core.compose(_core.CsrGraph.load(left_path), _core.CsrGraph.load(right_path))
    native.write_fst(tmp_path / "native.fst")
    ours = fst.Fst.read(str(tmp_path / "native.fst"))
    reference = fst.compose(fst.Fst.read(str(left_path)).arcsort("olabel"),
                            fst.Fst.read(str(right_path)).arcsort("ilabel"), connect=False)
    assert ours.num_states() == reference.num_states() == native.num_states
    assert num_arcs(ours) == num_arcs(reference)
    assert fst.isomorphic(ours, reference, delta=1e-6)
    return native, ours, reference


def test_the_same_transducer_as_openfsts_composition(built, tmp_path):
    native, ours, reference = composed_as_openfst_does(built.path / "T.fst",
                                                       built.path / "LG.fst", tmp_path)
    assert ours.verify()
    assert native.num_nonterminal_arcs > 0  # the class slot's entry arcs came through T
    lg = _core.CsrGraph.load(built.path / "LG.fst")
    if built.info["word_boundary"] and not built.info["word_boundary"]["optional"]:
        assert lg.num_epsilon_arcs > 0
    # The build wrote the same graph: its HCLG.fst is this composition.
    assert fst.isomorphic(fst.Fst.read(str(built.fst_path)), reference, delta=1e-6)


def test_lexicon_and_grammar_compose_as_in_openfst(intermediate_graph, tmp_path):
    composed_as_openfst_does(intermediate_graph.path / "L_disambig.fst",
                             intermediate_graph.path / "G.fst", tmp_path)
    # Both ways were taken: L's states inside a word (no word arcs) from L's side, its start
    # state (a word arc per pronunciation) against G's states with fewer arcs from G's side.
    lexicon = _core.CsrGraph.load(intermediate_graph.path / "L_disambig.fst")
    grammar = _core.CsrGraph.load(intermediate_graph.path / "G.fst")
    assert min(len(grammar.arcs(s)) for s in range(grammar.num_states)) < \
        len(lexicon.arcs(lexicon.start))


def test_written_files_read_back_unchanged(built, tmp_path):
    graph = built.native
    graph.write_fst(tmp_path / "copy.fst")
    copy = _core.CsrGraph.load(tmp_path / "copy.fst")
    assert (copy.num_states, copy.start) == (graph.num_states, graph.start)
    for s in range(graph.num_states):
        assert copy.arcs(s) == graph.arcs(s)
        assert copy.final(s) == graph.final(s)


def test_write_fst_names_a_directory_it_cannot_write(built, tmp_path):
    with pytest.raises(OSError, match="cannot write FST file .*missing"):
        built.native.write_fst(tmp_path / "missing" / "HCLG.fst")


def write_uniform_fst(path, num_states, labels, next_state):
    """An OpenFst vector FST file written from arrays (pywrapfst would take seconds for a
    million arcs): every state final, with one arc per label l (l:l, weight 0) to
    next_state(states, l)."""
    states = np.arange(num_states, dtype=np.int64)
    arc = np.dtype([("ilabel", "<i4"), ("olabel", "<i4"), ("weight", "<f4"), ("next", "<i4")])
    record = np.dtype([("final", "<f4"), ("num_arcs", "<i8"), ("arcs", arc, (len(labels),))])
    body = np.zeros(num_states, dtype=record)
    body["num_arcs"] = len(labels)
    for k, label in enumerate(labels):
        body["arcs"]["ilabel"][:, k] = body["arcs"]["olabel"][:, k] = label
        body["arcs"]["next"][:, k] = next_state(states, label)

    def text(s):
        return struct.pack("<i", len(s)) + s.encode()

    header = (struct.pack("<i", 2125659606) + text("vector") + text("standard") +
              struct.pack("<iiQqqq", 2, 0, 3, 0, num_states, num_states * len(labels)))
    path.write_bytes(header + body.tobytes())


def test_ctrl_c_stops_a_long_composition(tmp_path):
    # A topology of one state (blank and two tokens) and an LG of 600,000 states with two arcs
    # each: a few hundred milliseconds to compose; SIGINT comes after 50 ms.
    write_uniform_fst(tmp_path / "T.fst", 1, [1, 2], lambda s, label: 0 * s)
    n = 600_000
    write_uniform_fst(tmp_path / "LG.fst", n, [1, 2], lambda s, label: (s * 2 + label) % n)
    code = textwrap.dedent(f"""
        import os, signal, threading, time
        from pywfst import _core
        t = _core.CsrGraph.load({str(tmp_path / "T.fst")!r})
        lg = _core.CsrGraph.load({str(tmp_path / "LG.fst")!r})
        started = time.perf_counter()
        assert _core.compose(t, lg).num_states == {n}
        whole = time.perf_counter() - started
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.perf_counter()
        try:
            _core.compose(t, lg)
        except KeyboardInterrupt:
            print("interrupted", time.perf_counter() - started, whole)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("interrupted"), result.stdout
    interrupted_after, whole = map(float, result.stdout.split()[1:])
    # Without the check, the signal would be seen only once the whole composition returned.
    assert whole > 0.1 and interrupted_after < 0.6 * whole, result.stdout
