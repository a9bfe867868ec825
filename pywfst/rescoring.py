"""LM rescoring of n-best lists and word lattices: each path's LM cost under the graph's G is
taken out and a new LM's is put in. Decode with a small LM, rescore with a big one.

An n-best list is sorted again. A lattice (``Decoder(lattice=True)``) is expanded with the two
LMs' states, as Kaldi's lattice-lmrescore does: a state of the rescored lattice is a lattice
state with the new LM's context (kenlm's state) and the old LM's (the G states the words so far
reach, backoff arcs taken as epsilons, each with its cost above the cheapest: G determinized on
the fly), so every path gets exactly its own change, and the best path of the result is the
rescored 1-best.

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
from typing import TYPE_CHECKING, Dict, Optional, Sequence, Tuple, Union

from .graph import Graph

if TYPE_CHECKING:
    from .lattice import Lattice
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
        self._old_lm: "Optional[_BackoffLm]" = None  # for lattices, made on first use
        self._new_steps: Dict[tuple, tuple] = {}  # (kenlm state, word id) -> (cost, next state)

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
        """With a lattice (``Decoder(lattice=True)``): the best path of the rescored lattice,
        whose ``lattice`` it is. Else the result's n-best list (or the result alone) rescored and
        sorted again; the first becomes the result, with the others as its ``nbest``."""
        if result.has_full_lattice:
            from .decoder import result_of_path

            lattice = self.rescore_lattice(result.lattice)
            return result_of_path(self.graph, lattice.best_path(), result,
                                  make_lattice=lambda: lattice)
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

    def rescore_lattice(self, lattice: "Lattice") -> "Lattice":
        """The lattice with each path's graph cost changed by lm_weight x its new LM cost -
        graph_lm_weight x its old one (graph costs include boosts, as the search added them)."""
        from .lattice import Lattice, LatticeArc

        if self._old_lm is None:
            self._old_lm = _BackoffLm(self._g, self._backoff)
        out = lattice.arcs_by_source()
        start = _kenlm_start(self._new_lm)
        states = [(0, self._old_lm.start, start)]  # (lattice state, old LM's, new LM's)
        index = {states[0]: 0}
        arcs, finals = [], {}
        for number, (state, old, new) in enumerate(states):  # states grows as it is walked
            if state in lattice.finals:
                final = lattice.finals[state]
                change = self._change(self._old_lm.end_cost(old), self._new_step(new, None)[0])
                finals[number] = final._replace(graph_cost=final.graph_cost + change)
            for arc in out.get(state, []):
                old_cost, old_next = self._old_lm.step(old, arc.word_id)
                if not math.isfinite(old_cost):
                    raise ValueError(f"word {self.graph.word(arc.word_id)!r}: not in "
                                     f"{self.graph.path / 'G.fst'}")
                new_cost, new_next = self._new_step(new, arc.word_id)
                key = (arc.target, old_next, new_next)
                target = index.setdefault(key, len(states))
                if target == len(states):
                    states.append(key)
                arcs.append(LatticeArc(number, target, arc.word_id,
                                       arc.graph_cost + self._change(old_cost, new_cost),
                                       arc.acoustic_cost, arc.alignment, arc.continues))
        return Lattice(len(states), arcs, finals, beam=lattice.beam)

    def _new_step(self, state, word_id: Optional[int]):
        """(-ln P(word | state), next state) under the new LM, remembered (None: </s>)."""
        key = (state, word_id)
        found = self._new_steps.get(key)
        if found is None:
            word = "</s>" if word_id is None else self.graph.word(word_id)
            found = self._new_steps[key] = _kenlm_step(self._new_lm, state, word)
        return found

    def _change(self, old_cost: float, new_cost: float) -> float:
        return self.lm_weight * new_cost - self.graph_lm_weight * old_cost

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


class _BackoffLm:
    """G word by word as the decoding graph charged it: a context is the set of G states the
    words so far reach, backoff arcs (#0) taken as epsilons wherever they are cheaper, each with
    its cost above the cheapest (a trigram's hold at most three); a word's cost is the cheapest
    way to read it from there. Summed over a sentence this is the shortest path through G that
    Rescorer.old_lm_cost finds."""

    def __init__(self, g, backoff: Optional[int]):
        self._g = g
        self._backoff = backoff
        self._arcs: Dict[int, tuple] = {}  # G state -> ({word: (cost, next)}, [(cost, next)])
        self._steps: Dict[tuple, Tuple[float, tuple]] = {}  # (context, word) -> step()
        self._contexts: Dict[int, Tuple[float, tuple]] = {}  # G state -> its closure, normalized
        self.start = self._context_of(g.start())[1]

    def step(self, context: tuple, word: int) -> Tuple[float, tuple]:
        """(the word's cost, the next context), remembered."""
        key = (context, word)
        found = self._steps.get(key)
        if found is None:
            found = self._steps[key] = self._step(context, word)
        return found

    def _step(self, context: tuple, word: int) -> Tuple[float, tuple]:
        reached: Dict[int, float] = {}
        for state, offset in context:
            hit = self._arcs_of(state)[0].get(word)
            if hit is not None and offset + hit[0] < reached.get(hit[1], math.inf):
                reached[hit[1]] = offset + hit[0]
        if not reached:
            return math.inf, ()
        if len(reached) == 1:  # the usual case: one G state, whose context is remembered
            (state, cost), = reached.items()
            least, context = self._context_of(state)
            return cost + least, context
        return self._normalized(self._closure(reached))

    def _context_of(self, state: int) -> Tuple[float, tuple]:
        found = self._contexts.get(state)
        if found is None:
            found = self._contexts[state] = self._normalized(self._closure({state: 0.0}))
        return found

    def end_cost(self, context: tuple) -> float:
        return min(offset + float(self._g.final(state)) for state, offset in context)

    def _arcs_of(self, state: int) -> tuple:
        found = self._arcs.get(state)
        if found is None:
            words, backoffs = {}, []
            for arc in self._g.arcs(state):
                cost = float(arc.weight)
                if arc.ilabel == 0 or arc.ilabel == self._backoff:
                    backoffs.append((cost, arc.nextstate))
                elif cost < words.get(arc.ilabel, (math.inf,))[0]:
                    words[arc.ilabel] = (cost, arc.nextstate)
            found = self._arcs[state] = (words, backoffs)
        return found

    def _closure(self, costs: Dict[int, float]) -> Dict[int, float]:
        stack = list(costs)
        while stack:
            state = stack.pop()
            for cost, target in self._arcs_of(state)[1]:
                if costs[state] + cost < costs.get(target, math.inf):
                    costs[target] = costs[state] + cost
                    stack.append(target)
        return costs

    @staticmethod
    def _normalized(costs: Dict[int, float]) -> Tuple[float, tuple]:
        least = min(costs.values())
        return least, tuple(sorted((state, cost - least) for state, cost in costs.items()))


def _kenlm_start(model):
    import kenlm

    state = kenlm.State()
    model.BeginSentenceWrite(state)
    return state


def _kenlm_step(model, state, word: str):
    """(-ln P(word | state), the next state) under a kenlm model."""
    following = type(state)()  # a kenlm.State, without importing kenlm on every step
    return -LN_10 * model.BaseScore(state, word, following), following


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
