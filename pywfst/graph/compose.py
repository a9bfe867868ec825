"""The heavy graph algebra: OpenFst's composition through kaldifst, and native algorithms.

LG = min(det(L ∘ G)) as Kaldi's mkgraph.sh builds it: composition through kaldifst;
DeterminizeStar (epsilon removal and determinization in one pass, Mohri 1997 with Kaldi's
string-weight rules), done natively (``_core.determinize_star``): the same graph as Kaldi's
fstdeterminizestar, state for state, in about half its memory and a third of its time; and
minimization of the label- and weight-encoded acceptor (no weight pushing, so the search sees the
costs where G put them), done natively (``_core.minimize_encoded``): the same minimal graph as
Kaldi's fstminimizeencoded in a fraction of its time (benchmarks/graph_build). Then HCLG = T ∘ LG,
composed natively. Inputs and outputs go through OpenFst files, the common format of pywrapfst,
kaldifst and the native decoder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .._core import CsrGraph

PathLike = Union[str, Path]
# Kaldi's default delta for determinization: subsets whose weights differ by at most this much are
# one state (fstdeterminizestar's --delta).
DETERMINIZE_DELTA = 1 / 1024
WEIGHT_DELTA = 1e-6


def compile_lg(lexicon_fst: PathLike, grammar_fst: PathLike, out: PathLike) -> int:
    """Writes min(det(L ∘ G)) to ``out`` from L_disambig.fst (olabel-sorted) and G.fst
    (ilabel-sorted); returns its number of states."""
    import kaldifst  # here: a decode-only install needs none of the build packages (DESIGN.md)

    from .. import _core

    lexicon = kaldifst.StdVectorFst.read(str(lexicon_fst))
    grammar = kaldifst.StdVectorFst.read(str(grammar_fst))
    # L ∘ G of trim inputs is trim: a word enters only where G accepts it, so no connect pass.
    lg = kaldifst.compose(lexicon, grammar, connect=False)
    del lexicon, grammar
    if lg.num_states == 0:
        return 0
    # Through the file into the native layout, a third of OpenFst's in memory.
    lg.write(str(out))
    del lg
    determinized = _core.determinize_star(_core.CsrGraph.load(str(out)), DETERMINIZE_DELTA)
    # Kaldi's default delta (1/1024) would quantize every weight to that grid; a tiny delta keeps
    # G's costs as they are (equal weights stay equal, so the minimal LG is the same).
    minimal = _core.minimize_encoded(determinized, WEIGHT_DELTA)
    del determinized
    minimal.write_fst(out)
    return minimal.num_states


def compose_topology(topology_fst: PathLike, lg_fst: PathLike) -> "CsrGraph":
    """T ∘ LG as a native graph (``_core.compose_topology``: the same states and arcs as
    OpenFst's composition in a third of its time). T reads disambiguation symbols with epsilon
    input, so none is left in the result; T can finish from any state, so the composition is
    trim."""
    from .. import _core

    return _core.compose_topology(_core.CsrGraph.load(str(topology_fst)),
                                  _core.CsrGraph.load(str(lg_fst)))
