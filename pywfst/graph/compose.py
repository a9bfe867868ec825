"""The heavy graph algebra, done natively on the CSR layout (a third of OpenFst's VectorFst in
memory), each step handing its arc array on without a copy.

LG = min(det(L ∘ G)) as Kaldi's mkgraph.sh builds it: composition (``_core.compose``: the states
and arcs of OpenFst's, with its sequence filter); DeterminizeStar (epsilon removal and
determinization in one pass, Mohri 1997 with Kaldi's string-weight rules,
``_core.determinize_star``: the graph Kaldi's fstdeterminizestar gives, state for state); and
minimization of the label- and weight-encoded acceptor (no weight pushing, so the search sees the
costs where G put them; ``_core.minimize_encoded``: the minimal graph Kaldi's fstminimizeencoded
gives). Then HCLG = T ∘ LG, composed the same way. Against kaldifst's and Kaldi's binaries on a
CMUdict graph: benchmarks/graph_build. Inputs and outputs are OpenFst files, the common format
of pywrapfst, kaldifst and the native decoder."""

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


def compile_lg(lexicon_fst: PathLike, grammar_fst: PathLike, out: PathLike) -> None:
    """Writes min(det(L ∘ G)) to ``out`` from L_disambig.fst and G.fst (ilabel-sorted); ValueError
    (from the minimization) when L ∘ G accepts nothing."""
    from .. import _core  # here: building needs the native core, reading graph files does not

    composed = _core.compose(_core.CsrGraph.load(str(lexicon_fst)),
                             _core.CsrGraph.load(str(grammar_fst)))
    determinized = _core.determinize_star(composed, DETERMINIZE_DELTA)
    del composed
    # Kaldi's default delta (1/1024) would quantize every weight to that grid; a tiny delta keeps
    # G's costs as they are (equal weights stay equal, so the minimal LG is the same).
    minimal = _core.minimize_encoded(determinized, WEIGHT_DELTA)
    del determinized
    minimal.write_fst(out)


def compose_topology(topology_fst: PathLike, lg_fst: PathLike) -> "CsrGraph":
    """T ∘ LG as a native graph. T reads disambiguation symbols with epsilon input, so none is
    left in the result; T can finish from any state, so the composition is trim."""
    from .. import _core

    return _core.compose(_core.CsrGraph.load(str(topology_fst)),
                         _core.CsrGraph.load(str(lg_fst)))
