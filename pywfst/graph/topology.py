"""Token topologies T: transducers from emission columns (input label = column + 1) to tokens
(output label = token id + 1), composed on the left of LG.

- ``ctc``: the standard CTC topology (Graves 2006, as k2's ``ctc_topo``): a blank state and one
  state per token; repeats collapse unless a blank separates them. O(V^2) arcs.
- ``ctc-compact``: k2's "modified" CTC topology: token states return to the blank state by an
  epsilon arc, O(V) arcs. It also accepts a repeated token without a blank between the two.
- ``hmm``: ``hmm_states`` left-to-right emitting states with self-loops per token (hybrid
  DNN-HMM); state k of token t reads emission column ``t * hmm_states + k``.
- ``identity``: exactly one frame per token.

Every topology passes LG's disambiguation symbols through with epsilon-input self-loops, so that
T ∘ LG holds epsilons where LG read them (Kaldi removes them with fstrmsymbols afterwards), in its
word states (those where one word may end and the next begin).

Class slots: LG reads a class slot as one token-level label. T reads it, from each word state k,
with a nonterminal input label enter(class, k) into a return state, which leads back to every
word state k' with the input label return(k') (csrc/fst/nonterminal.h). The decoder replaces
that detour by the class's run-time sub-graph, entered in context k and left in the context the
entry ended in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Sequence

if TYPE_CHECKING:  # annotations only: OpenFst is imported where an FST is built, so that a
    import pywrapfst as fst  # decode-only install needs no pynini (DESIGN.md)

TOPOLOGIES = ("ctc", "ctc-compact", "hmm", "identity")


@dataclass
class Topology:
    fst: fst.VectorFst
    num_columns: int  # emission columns the graph reads (max input label)
    word_states: List[int]  # states where words begin and end


def check_hmm_states(hmm_states: int) -> None:
    """States per token of the ``hmm`` topology: a whole number >= 1 (columns are divided by it
    to find their token)."""
    if isinstance(hmm_states, bool) or not isinstance(hmm_states, int) or hmm_states < 1:
        raise ValueError(f"hmm_states: must be an integer >= 1, got {hmm_states!r}")


def _new_fst(num_states: int) -> fst.VectorFst:
    result = fst.VectorFst()
    result.add_states(num_states)
    result.set_start(0)
    return result


def _arc(ilabel: int, olabel: int, nextstate: int) -> fst.Arc:
    return fst.Arc(ilabel, olabel, fst.Weight.one("tropical"), nextstate)


def _add_disambig_loops(result: fst.VectorFst, states: Sequence[int],
                        disambig_labels: Sequence[int]) -> None:
    for state in states:
        for label in disambig_labels:
            result.add_arc(state, _arc(0, label, state))


def _add_class_slots(result: fst.VectorFst, word_states: Sequence[int],
                     class_labels: Sequence[int]) -> None:
    from .. import _core

    if not class_labels:
        return
    if result.num_states() + 1 > _core.MAX_CONTEXTS:
        raise ValueError(f"class slots: the topology has {result.num_states()} states; at most "
                         f"{_core.MAX_CONTEXTS - 1} are supported")
    returns = result.add_state()
    for class_index, label in enumerate(class_labels):
        for state in word_states:
            result.add_arc(state, _arc(_core.enter_label(class_index, state), label, returns))
    for state in word_states:
        result.add_arc(returns, _arc(_core.return_label(state), 0, state))


def make_topology(kind: str, token_ids: Sequence[int], blank_id: int, num_token_columns: int,
                  disambig_labels: Sequence[int], hmm_states: int = 3,
                  class_labels: Sequence[int] = ()) -> Topology:
    """Builds T for ``token_ids`` (the tokens a lexicon may use, blank excluded).

    ``num_token_columns`` is max token id + 1; ``disambig_labels`` are L's disambiguation labels;
    ``class_labels`` are L's labels of the class slots, in slot order.
    """
    # Bound for the whole module on first use, not imported inside _arc: an import statement per
    # arc doubles the time to build a large T.
    global fst
    import pywrapfst as fst

    if kind not in TOPOLOGIES:
        raise ValueError(f"topology: unknown kind {kind!r}; choose one of {', '.join(TOPOLOGIES)}")
    if kind in ("ctc", "ctc-compact") and blank_id < 0:
        raise ValueError(f"topology {kind!r} needs a blank token with id 0 in tokens.txt")
    if kind == "hmm":
        check_hmm_states(hmm_states)
    tokens: List[int] = [t for t in token_ids if t != blank_id]
    builder = {"ctc": _ctc, "ctc-compact": _ctc_compact, "hmm": _hmm, "identity": _identity}[kind]
    result, num_columns, word_states = builder(tokens, blank_id, num_token_columns, hmm_states)
    word_states = list(word_states)
    _add_disambig_loops(result, word_states, disambig_labels)
    _add_class_slots(result, word_states, class_labels)
    result.arcsort("olabel")
    return Topology(result, num_columns, word_states)


def _ctc(tokens: List[int], blank: int, num_columns: int, _hmm_states: int):
    result = _new_fst(1 + len(tokens))
    state_of = {token: index + 1 for index, token in enumerate(tokens)}
    result.add_arc(0, _arc(blank + 1, 0, 0))
    for token, state in state_of.items():
        result.add_arc(0, _arc(token + 1, token + 1, state))
        result.add_arc(state, _arc(token + 1, 0, state))
        result.add_arc(state, _arc(blank + 1, 0, 0))
        for other, other_state in state_of.items():
            if other != token:
                result.add_arc(state, _arc(other + 1, other + 1, other_state))
    for state in range(result.num_states()):
        result.set_final(state)
    # A disambiguation symbol may follow a token without a blank: every state needs the loops.
    return result, num_columns, range(result.num_states())


def _ctc_compact(tokens: List[int], blank: int, num_columns: int, _hmm_states: int):
    result = _new_fst(1 + len(tokens))
    result.add_arc(0, _arc(blank + 1, 0, 0))
    for index, token in enumerate(tokens):
        state = index + 1
        result.add_arc(0, _arc(token + 1, token + 1, state))
        result.add_arc(state, _arc(token + 1, 0, state))
        result.add_arc(state, _arc(0, 0, 0))
        result.set_final(state)
    result.set_final(0)
    return result, num_columns, [0]


def _hmm(tokens: List[int], _blank: int, num_token_columns: int, num_states: int):
    result = _new_fst(1 + len(tokens) * num_states)
    result.set_final(0)
    for index, token in enumerate(tokens):
        first = 1 + index * num_states
        column = token * num_states
        result.add_arc(0, _arc(column + 1, token + 1, first))
        for k in range(num_states):
            state = first + k
            result.add_arc(state, _arc(column + k + 1, 0, state))
            if k + 1 < num_states:
                result.add_arc(state, _arc(column + k + 2, 0, state + 1))
        result.add_arc(first + num_states - 1, _arc(0, 0, 0))
    return result, num_token_columns * num_states, [0]


def _identity(tokens: List[int], _blank: int, num_columns: int, _hmm_states: int):
    result = _new_fst(1)
    result.set_final(0)
    for token in tokens:
        result.add_arc(0, _arc(token + 1, token + 1, 0))
    return result, num_columns, [0]
