"""Word lattices, word confidences and MBR.

A :class:`Lattice` is a determinized word lattice: one path per word sequence, with the (graph
cost, acoustic cost) of its best alignment, and arc strings that concatenate to that alignment.
Weights and strings are pushed towards the start as in Kaldi's determinized CompactLattice: an
arc carries what all paths through it share (the weights of the cheapest among them, the common
prefix of their alignments), the rest comes further on. It is made either from every path the
search kept within ``lattice_beam`` (``Decoder(lattice=True)``, Kaldi's lattice decoder:
csrc/decoder/lattice_recorder.h, lattice_determinizer.h) or from a result's n-best list
(``nbest=N``: a prefix tree of the N word sequences).

Costs are as the search weighed them: graph costs with lm_weight, insertion penalties and
boosts applied, acoustic costs with acoustic_scale applied (Kaldi's lattices keep acoustic costs
unscaled: give Kaldi tools --acoustic-scale=1).

Posteriors: each hypothesis has probability exp(-cost) normalised over the list. A 1-best
word's confidence is the probability mass of the hypotheses that have the same word at the
place a Levenshtein alignment to the 1-best puts it (n-best ROVER voting); MBR picks the
hypothesis with the least expected word errors against the others (Stolcke et al. 1997).
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import (TYPE_CHECKING, Dict, Iterator, List, NamedTuple, Optional, Sequence, TextIO,
                    Tuple, Union)

from .errors import InputFileError
from .metrics import align_words, edit_distance

if TYPE_CHECKING:
    import pywrapfst

    from .result import Result

# Paths of a lattice that word confidences weigh (as an n-best list of this size would).
LATTICE_ALTERNATIVES = 50


class Alternative(NamedTuple):
    """A word sequence a decode weighed: word ids and total cost."""
    words: Sequence[int]
    cost: float


class LatticeArc(NamedTuple):  # a tuple: lattices hold many, made fast
    source: int
    target: int
    word_id: int
    graph_cost: float
    acoustic_cost: float
    alignment: Tuple[int, ...]  # emission columns, one per frame (this arc's part of the string)
    # per frame: a self-loop continued the token (for word times); () where unknown (a lattice
    # read from Kaldi text or made from an n-best list)
    continues: Tuple[bool, ...] = ()


class LatticeFinal(NamedTuple):
    """What a path pays at its end state: costs and the rest of its alignment."""
    graph_cost: float
    acoustic_cost: float
    alignment: Tuple[int, ...]
    continues: Tuple[bool, ...] = ()


class LatticePath(NamedTuple):
    """A complete path: its words, costs and alignment."""
    word_ids: List[int]
    graph_cost: float
    acoustic_cost: float
    alignment: List[int]
    continues: Optional[List[bool]]  # per frame, None where the lattice does not say
    word_frames: List[int]  # per word: the first frame of its arc's part of the alignment

    @property
    def cost(self) -> float:
        return self.graph_cost + self.acoustic_cost


@dataclass
class Lattice:
    """A determinized word lattice (acceptor over word ids); state 0 is the start."""

    num_states: int
    arcs: List[LatticeArc]
    finals: Dict[int, LatticeFinal]
    # Every path within this cost of the best one is in it (None: made from an n-best list).
    beam: Optional[float] = None

    @classmethod
    def from_native(cls, native) -> "Lattice":
        """The lattice of a decode with ``lattice=True`` (a pywfst._core.WordLattice)."""
        arcs = [LatticeArc(*arc) for arc in native.arcs]
        finals = {state: LatticeFinal(*rest) for state, *rest in native.finals}
        return cls(native.num_states, arcs, finals, beam=native.beam)

    @classmethod
    def from_hypotheses(cls, hypotheses: Sequence["Result"]) -> "Lattice":
        """The lattice of distinct word sequences, cheapest first (a result's ``nbest``)."""
        children: List[Dict[int, int]] = [{}]
        node_of: List[int] = []  # each hypothesis' last node
        best: List[int] = [0]  # per node: the cheapest hypothesis through it (the first, in order)
        common: List[int] = [len(hypotheses[0].alignment)] if hypotheses else [0]
        for index, hypothesis in enumerate(hypotheses):
            node = 0
            common[0] = _common_prefix(hypotheses[best[0]].alignment, hypothesis.alignment,
                                       common[0])
            for word_id in hypothesis.word_ids:
                child = children[node].get(word_id)
                if child is None:
                    child = children[node][word_id] = len(children)
                    children.append({})
                    best.append(index)
                    common.append(len(hypothesis.alignment))
                else:
                    common[child] = _common_prefix(hypotheses[best[child]].alignment,
                                                   hypothesis.alignment, common[child])
                node = child
            node_of.append(node)
        arcs = []
        for node, edges in enumerate(children):
            for word_id, child in edges.items():
                head, tail = hypotheses[best[node]], hypotheses[best[child]]
                root = node == 0  # the start carries no weight: the first arcs take it all
                arcs.append(LatticeArc(
                    node, child, word_id,
                    _graph(tail) - (0.0 if root else _graph(head)),
                    tail.acoustic_cost - (0.0 if root else head.acoustic_cost),
                    tuple(tail.alignment[(0 if root else common[node]):common[child]])))
        finals = {}
        for index, node in enumerate(node_of):
            hypothesis, owner = hypotheses[index], hypotheses[best[node]]
            if node in finals:
                continue  # a word sequence once (the list holds distinct ones; kept cheapest)
            offset = common[node] if node != 0 else 0
            graph = _graph(hypothesis) - (_graph(owner) if node != 0 else 0.0)
            acoustic = hypothesis.acoustic_cost - (owner.acoustic_cost if node != 0 else 0.0)
            finals[node] = LatticeFinal(graph, acoustic, tuple(hypothesis.alignment[offset:]))
        return cls(len(children), arcs, finals)

    def paths(self) -> Iterator[LatticePath]:
        """Every complete path (as many as the lattice holds: use :meth:`nbest` on a big one)."""
        out = self.arcs_by_source()
        stack = [_START]
        while stack:
            state, path = stack.pop()
            if state in self.finals:
                yield _ended(path, self.finals[state])
            stack.extend((arc.target, _extended(path, arc)) for arc in out.get(state, []))

    def nbest(self, n: int) -> List[LatticePath]:
        """The n cheapest paths (graph + acoustic), cheapest first: A* search with each state's
        exact cost to the end as its estimate, so that only the paths returned are completed."""
        out = self.arcs_by_source()
        to_end = self._costs_to_end(out)
        if n <= 0 or 0 not in to_end:
            return []
        if n == 1:
            return [self._cheapest(out, to_end)]
        found: List[LatticePath] = []
        order = itertools.count()  # ties: first pushed, first out
        # (estimate, order, state (None: complete), path so far)
        heap = [(to_end[0], next(order), *_START)]
        while heap and len(found) < n:
            _, _, state, path = heapq.heappop(heap)
            if state is None:
                found.append(path)
                continue
            if state in self.finals:
                ended = _ended(path, self.finals[state])
                heapq.heappush(heap, (ended.cost, next(order), None, ended))
            for arc in out.get(state, []):
                if arc.target in to_end:
                    longer = _extended(path, arc)
                    heapq.heappush(heap, (longer[1] + longer[2] + to_end[arc.target],
                                          next(order), arc.target, longer))
        return found

    def _cheapest(self, out: Dict[int, List[LatticeArc]], to_end: Dict[int, float]) -> LatticePath:
        """The cheapest path, state by state along the costs to the end (ties as nbest breaks
        them: the end before an arc, then the first arc)."""
        state, path = _START
        while True:
            final = self.finals.get(state)
            best_cost = final.graph_cost + final.acoustic_cost if final is not None else math.inf
            best_arc = None
            for arc in out.get(state, []):
                cost = arc.graph_cost + arc.acoustic_cost + to_end.get(arc.target, math.inf)
                if cost < best_cost:
                    best_cost, best_arc = cost, arc
            if best_arc is None:
                return _ended(path, final)
            state, path = best_arc.target, _extended(path, best_arc)

    def arcs_by_source(self) -> Dict[int, List[LatticeArc]]:
        out: Dict[int, List[LatticeArc]] = {}
        for arc in self.arcs:
            out.setdefault(arc.source, []).append(arc)
        return out

    def _costs_to_end(self, out: Dict[int, List[LatticeArc]]) -> Dict[int, float]:
        """Each state's cheapest cost to a final one (states that reach none are left out)."""
        incoming = {state: 0 for state in range(self.num_states)}
        for arc in self.arcs:
            incoming[arc.target] += 1
        order = [s for s, count in incoming.items() if count == 0]
        for state in order:  # Kahn's algorithm: order grows as states become ready
            for arc in out.get(state, []):
                incoming[arc.target] -= 1
                if incoming[arc.target] == 0:
                    order.append(arc.target)
        to_end: Dict[int, float] = {}
        for state in reversed(order):
            costs = [to_end[arc.target] + arc.graph_cost + arc.acoustic_cost
                     for arc in out.get(state, []) if arc.target in to_end]
            if state in self.finals:
                costs.append(self.finals[state][0] + self.finals[state][1])
            if costs:
                to_end[state] = min(costs)
        return to_end

    def to_openfst(self) -> "pywrapfst.VectorFst":
        """A tropical acceptor over word ids (weight: graph + acoustic cost) for OpenFst."""
        import pywrapfst as fst

        result = fst.VectorFst()
        result.add_states(self.num_states)
        result.set_start(0)
        for arc in self.arcs:
            result.add_arc(arc.source, fst.Arc(arc.word_id, arc.word_id, fst.Weight(
                "tropical", arc.graph_cost + arc.acoustic_cost), arc.target))
        for state, final in self.finals.items():
            result.set_final(state, fst.Weight("tropical", final.graph_cost + final.acoustic_cost))
        return result

    def write_kaldi(self, out: TextIO, utterance: str) -> None:
        """Kaldi's CompactLattice text form (``lattice-copy --write-compact=true ark,t:``): per
        arc ``source target word graph,acoustic,t1_t2_...`` with t = emission column + 1 (the
        graph's input label), per final state ``state graph,acoustic,t...``; a blank line ends
        the utterance."""
        out.write(f"{utterance}\n")
        for arc in self.arcs:
            out.write(f"{arc.source}\t{arc.target}\t{arc.word_id}\t"
                      f"{_weight(arc.graph_cost, arc.acoustic_cost, arc.alignment)}\n")
        for state, final in sorted(self.finals.items()):
            out.write(f"{state}\t{_weight(*final[:3])}\n")
        out.write("\n")

    def best_path(self) -> LatticePath:
        return self.nbest(1)[0]


def read_kaldi_lattices(path: Union[str, Path]) -> Dict[str, Lattice]:
    """Lattices written by :meth:`Lattice.write_kaldi` (or Kaldi's lattice-copy in text form),
    by utterance; InputFileError names the line of a malformed one."""
    lattices: Dict[str, Lattice] = {}
    utterance: Optional[str] = None
    arcs: List[LatticeArc] = []
    finals: Dict[int, Tuple[float, float, Tuple[int, ...]]] = {}
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                if utterance is not None:
                    lattices[utterance] = _lattice(arcs, finals)
                utterance, arcs, finals = None, [], {}
                continue
            if utterance is None:
                if len(fields) != 1:
                    raise InputFileError(path, line_no, "expected an utterance id")
                utterance = fields[0]
                continue
            try:
                if len(fields) == 4:
                    graph, acoustic, alignment = _parse_weight(fields[3])
                    arcs.append(LatticeArc(int(fields[0]), int(fields[1]), int(fields[2]),
                                           graph, acoustic, alignment))
                elif len(fields) == 2:
                    finals[int(fields[0])] = LatticeFinal(*_parse_weight(fields[1]))
                else:
                    raise ValueError(f"{len(fields)} fields")
            except ValueError as error:
                raise InputFileError(path, line_no, f"not a lattice arc or final state "
                                     f"({error})") from None
    if utterance is not None:
        lattices[utterance] = _lattice(arcs, finals)
    return lattices


def posteriors(hypotheses: Sequence[Union["Result", Alternative]]) -> List[float]:
    """exp(-cost) of each hypothesis, normalised over the list."""
    best = min(h.cost for h in hypotheses)
    weights = [math.exp(best - h.cost) for h in hypotheses]
    total = sum(weights)
    return [w / total for w in weights]


def word_confidences(hypotheses: Sequence[Union["Result", Alternative]]) -> List[float]:
    """Per word of the first hypothesis: the posterior mass of the hypotheses that align the
    same word to it."""
    reference = hypotheses[0].words
    confidence = [0.0] * len(reference)
    for probability, hypothesis in zip(posteriors(hypotheses), hypotheses):
        for i, j in align_words(reference, hypothesis.words):
            if j is not None and i is not None and reference[i] == hypothesis.words[j]:
                confidence[i] += probability
    return [min(c, 1.0) for c in confidence]


def minimum_bayes_risk(hypotheses: Sequence["Result"]) -> "Result":
    """The hypothesis with the least expected word errors against the list."""
    probabilities = posteriors(hypotheses)
    risks = [sum(p * edit_distance(other.words, candidate.words)
                 for p, other in zip(probabilities, hypotheses)) for candidate in hypotheses]
    return hypotheses[min(range(len(hypotheses)), key=lambda i: (risks[i], i))]


# A path being extended: (word ids, graph cost, acoustic cost, alignment, continues (None when
# unknown), word frames), all tuples.
_START = (0, ((), 0.0, 0.0, (), (), ()))


def _extended(path: tuple, arc: LatticeArc) -> tuple:
    ids, graph, acoustic, alignment, continues, frames = path
    known = continues is not None and len(arc.continues) == len(arc.alignment)
    return (ids + (arc.word_id,), graph + arc.graph_cost, acoustic + arc.acoustic_cost,
            alignment + arc.alignment, continues + arc.continues if known else None,
            frames + (len(alignment),))


def _ended(path: tuple, final: LatticeFinal) -> LatticePath:
    ids, graph, acoustic, alignment, continues, frames = path
    if continues is not None and len(final.continues) == len(final.alignment):
        continues = list(continues + final.continues)
    else:
        continues = None
    return LatticePath(list(ids), graph + final.graph_cost, acoustic + final.acoustic_cost,
                       list(alignment + final.alignment), continues, list(frames))


def _graph(hypothesis: "Result") -> float:
    """The graph side of a hypothesis' cost, boosts included (as the search added them)."""
    return hypothesis.cost - hypothesis.acoustic_cost


def _common_prefix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    n = min(limit, len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _weight(graph: float, acoustic: float, alignment: Sequence[int]) -> str:
    return f"{graph:.9g},{acoustic:.9g},{'_'.join(str(t + 1) for t in alignment)}"


def _parse_weight(text: str) -> Tuple[float, float, Tuple[int, ...]]:
    parts = text.split(",")
    if len(parts) != 3:
        raise ValueError(f"weight {text!r} is not graph,acoustic,string")
    alignment = tuple(int(t) - 1 for t in parts[2].split("_") if t) if parts[2] else ()
    if any(t < 0 for t in alignment):
        raise ValueError(f"string {parts[2]!r} holds a label < 1")
    return float(parts[0]), float(parts[1]), alignment


def _lattice(arcs: List[LatticeArc], finals: Dict) -> Lattice:
    states = max([0] + [max(a.source, a.target) for a in arcs] + list(finals)) + 1
    return Lattice(states, arcs, finals)
