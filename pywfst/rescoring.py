"""LM rescoring of n-best lists (and so of the lattices built from them, pywfst.lattice): each
hypothesis' LM cost under the graph's G is taken out and a new LM's is put in, and the list is
sorted again. Decode with a small LM, rescore with a big one.

The old LM cost of a word sequence is what the search paid in G: the cheapest path of the
sequence through G.fst (build-graph keeps it in the graph directory), backoff arcs (#0) taken as
the decoding graph takes them, as epsilons, wherever they are cheaper. The new LM is scored by
kenlm (an ARPA file, gzipped or not, or a kenlm binary), sentence start and end included; costs
are -ln of probabilities, as the graph's.

    new cost = cost - graph_lm_weight * old LM cost + lm_weight * new LM cost

``graph_lm_weight`` is the lm_weight the decoder ran with (1 by default).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Sequence, Tuple, Union

from .graph import Graph

if TYPE_CHECKING:
    from .result import Result

LN_10 = math.log(10.0)


class Rescorer:
    """Holds the graph's G and the new LM, for rescoring many results."""

    def __init__(self, graph: Union[Graph, str, Path], new_lm, lm_weight: float = 1.0,
                 graph_lm_weight: float = 1.0):
        import pywrapfst as fst  # OpenFst composes the word sequences with G

        self.graph = graph if isinstance(graph, Graph) else Graph.load(graph)
        for name, value in (("lm_weight", lm_weight), ("graph_lm_weight", graph_lm_weight)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: must be a finite number >= 0, got {value!r}")
        self.lm_weight, self.graph_lm_weight = float(lm_weight), float(graph_lm_weight)
        g_path = self.graph.path / "G.fst"
        if not g_path.is_file():
            raise ValueError(f"{g_path}: missing; rescoring needs the graph's G (build-graph "
                             "with --lm keeps it)")
        self._fst = fst
        self._g = fst.Fst.read(str(g_path))
        if not self._g.properties(fst.I_LABEL_SORTED, True):
            self._g = fst.VectorFst(self._g).arcsort("ilabel")
        self._backoff = self.graph.words["#0"] if "#0" in self.graph.words else None
        self._new_lm = _load_kenlm(new_lm)
        self._old_cache: Dict[Tuple[int, ...], float] = {}

    def old_lm_cost(self, word_ids: Sequence[int]) -> float:
        """-ln P(words) under G, as the decoding graph charged it."""
        key = tuple(word_ids)
        if key not in self._old_cache:
            self._old_cache[key] = self._shortest_through_g(key)
        return self._old_cache[key]

    def new_lm_cost(self, words: Sequence[str]) -> float:
        """-ln P(<s> words </s>) under the new LM."""
        return -LN_10 * self._new_lm.score(" ".join(words), bos=True, eos=True)

    def __call__(self, result: "Result") -> "Result":
        """The result's n-best list (or the result alone) rescored and sorted again; the
        first becomes the result, with the others as its ``nbest``."""
        hypotheses = result.nbest or [result]
        rescored = []
        for hypothesis in hypotheses:
            change = (self.lm_weight * self.new_lm_cost(hypothesis.words)
                      - self.graph_lm_weight * self.old_lm_cost(hypothesis.word_ids))
            rescored.append(dataclasses.replace(hypothesis, cost=hypothesis.cost + change,
                                                graph_cost=hypothesis.graph_cost + change,
                                                nbest=[]))
        rescored.sort(key=lambda h: h.cost)  # stable: ties keep the decoder's order
        return dataclasses.replace(rescored[0], nbest=rescored) if result.nbest else rescored[0]

    def _shortest_through_g(self, word_ids: Tuple[int, ...]) -> float:
        fst = self._fst
        chain = fst.VectorFst()
        chain.add_states(len(word_ids) + 1)
        chain.set_start(0)
        chain.set_final(len(word_ids))
        one = fst.Weight.one("tropical")
        for i, word in enumerate(word_ids):
            chain.add_arc(i, fst.Arc(word, word, one, i + 1))
        if self._backoff is not None:  # G's backoff arcs read #0: let them through anywhere
            for i in range(len(word_ids) + 1):
                chain.add_arc(i, fst.Arc(self._backoff, self._backoff, one, i))
        chain.arcsort("olabel")
        composed = fst.compose(chain, self._g)
        distance = fst.shortestdistance(composed, reverse=True)
        cost = float(distance[composed.start()]) if composed.start() >= 0 and distance else math.inf
        if not math.isfinite(cost):
            words = [self.graph.word(w) for w in word_ids]
            raise ValueError(f"words {words}: no path through "
                             f"{self.graph.path / 'G.fst'} (a word G does not know, such as a "
                             "class-slot entry)")
        return cost


def rescore(result: "Result", graph: Union[Graph, str, Path], new_lm, lm_weight: float = 1.0,
            graph_lm_weight: float = 1.0) -> "Result":
    """One result rescored (see :class:`Rescorer`, which keeps G and the LM loaded for many)."""
    return Rescorer(graph, new_lm, lm_weight, graph_lm_weight)(result)


def _load_kenlm(new_lm):
    try:
        import kenlm
    except ImportError:
        raise ImportError("rescoring scores the new LM with kenlm: pip install kenlm") from None
    if isinstance(new_lm, kenlm.Model):
        return new_lm
    path = Path(new_lm)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such LM file")
    try:
        return kenlm.Model(str(path))
    except (OSError, RuntimeError) as error:  # kenlm's own message says what is wrong
        raise ValueError(f"{path}: kenlm cannot read it as an ARPA or binary LM: {error}") from None
