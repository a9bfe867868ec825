"""Kaldi's TransitionModel, read from a model file (``final.mdl``, binary or text), for the one
thing a decoder needs from it: the pdf-id of each transition-id.

A Kaldi HCLG.fst reads transition-ids (1-based); the acoustic model scores pdf-ids (0-based
columns of its output). Kaldi numbers transition-ids by walking the transition states (one per
(phone, HMM state, pdfs) tuple, in file order) and, within each, the transitions out of that HMM
state in the phone's topology, in order; a transition that returns to its own HMM state (the
self-loop) reads the tuple's self-loop pdf, every other its forward pdf (hmm/transition-model.cc
in Kaldi describes this numbering). Only the model's first object is read: the neural network
after it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple, Union

import numpy as np

from .object_reader import KaldiObjectReader, parse_int32

# Limits far above any real model, so that a corrupted count is an error, not a huge allocation.
MAX_PHONES = 1 << 20
MAX_ENTRY_STATES = 1 << 10
MAX_TRANSITIONS = 1 << 10
MAX_TUPLES = 1 << 24
MAX_PDFS = 1 << 24
NO_PDF = -1  # Kaldi's kNoPdf: an HMM state without a pdf class (a topology's final state)


@dataclass(frozen=True)
class HmmState:
    """What the numbering needs of a topology's HMM state (its pdf classes are read, not kept:
    the tuples hold the pdf-ids)."""

    transitions: Tuple[Tuple[int, float], ...]  # (destination HMM state, probability)


@dataclass(frozen=True)
class TransitionModel:
    """``pdf_of[tid]``: the pdf-id that transition-id ``tid`` reads (``pdf_of[0]``, for no
    transition-id, is -1). ``num_pdfs``: columns the acoustic model must give."""

    path: str
    pdf_of: np.ndarray  # int32 [num_transition_ids + 1]
    num_pdfs: int

    @property
    def num_transition_ids(self) -> int:
        return len(self.pdf_of) - 1

    @classmethod
    def read(cls, path: Union[str, Path]) -> "TransitionModel":
        """Reads the TransitionModel at the start of a Kaldi model file (``final.mdl`` of a
        GMM, nnet2 or nnet3 system, or a file of ``copy-transition-model``), in Kaldi's binary
        or text form. Raises KaldiObjectError (a ValueError) naming the file and byte offset."""
        with open(path, "rb") as stream:
            reader = KaldiObjectReader(stream, path)
            reader.expect("<TransitionModel>")
            topology = _read_topology(reader)
            tuples_start = reader.offset
            tuples = _read_tuples(reader, topology)
            pdf_of = _number_transition_ids(reader, topology, tuples, tuples_start)
            reader.expect("<LogProbs>")
            log_probs_start = reader.offset
            log_probs = reader.real_vector("<LogProbs>", len(pdf_of))
            if len(log_probs) != len(pdf_of):  # entry 0 is for no transition-id
                raise reader.error(f"<LogProbs>: {len(log_probs)} values, but the topology and "
                                   f"tuples define {len(pdf_of) - 1} transition-ids (expected "
                                   f"{len(pdf_of)})", log_probs_start)
            reader.expect("</LogProbs>")
            reader.expect("</TransitionModel>")
        num_pdfs = int(pdf_of.max(initial=-1)) + 1
        return cls(str(path), pdf_of, num_pdfs)


@dataclass(frozen=True)
class _Topology:
    entries: List[List[HmmState]]
    entry_of_phone: Dict[int, int]


def _read_topology(reader: KaldiObjectReader) -> _Topology:
    reader.expect("<Topology>")
    if reader.binary:
        topology = _read_binary_topology(reader)
    else:
        topology = _read_text_topology(reader)
    if not topology.entries:
        raise reader.error("<Topology>: no topology entries")
    return topology


def _read_binary_topology(reader: KaldiObjectReader) -> _Topology:
    start = reader.offset
    phones = reader.int32_vector("<Topology> phones", MAX_PHONES)
    phone_to_entry = reader.int32_vector("<Topology> phone-to-entry map", MAX_PHONES + 1)
    count = reader.int32("<Topology> entry count")
    separate_self_loop_pdfs = count == -1  # written before the count by non-HMM (chain) models
    if separate_self_loop_pdfs:
        count = reader.int32("<Topology> entry count")
    if not 0 <= count <= MAX_PHONES:
        raise reader.error(f"<Topology>: impossible entry count {count}")
    entries = []
    for entry in range(count):
        what = f"<Topology> entry {entry}"
        num_states = reader.int32(f"{what} state count")
        if not 0 <= num_states <= MAX_ENTRY_STATES:
            raise reader.error(f"{what}: impossible state count {num_states}")
        states = []
        for _ in range(num_states):
            reader.int32(f"{what} forward pdf class")
            if separate_self_loop_pdfs:
                reader.int32(f"{what} self-loop pdf class")
            num_transitions = reader.int32(f"{what} transition count")
            if not 0 <= num_transitions <= MAX_TRANSITIONS:
                raise reader.error(f"{what}: impossible transition count {num_transitions}")
            transitions = tuple((reader.int32(f"{what} transition destination"),
                                 reader.real(f"{what} transition probability"))
                                for _ in range(num_transitions))
            states.append(HmmState(transitions))
        entries.append(states)
    reader.expect("</Topology>")
    entry_of_phone = {}
    for phone in phones:
        if not 0 <= phone < len(phone_to_entry) or not 0 <= phone_to_entry[phone] < count:
            raise reader.error(f"<Topology>: phone {phone} has no topology entry", start)
        entry_of_phone[phone] = phone_to_entry[phone]
    return _checked(reader, _Topology(entries, entry_of_phone), start)


def _read_text_topology(reader: KaldiObjectReader) -> _Topology:
    start = reader.offset
    entries: List[List[HmmState]] = []
    entry_of_phone: Dict[int, int] = {}
    while True:
        token_start = reader.offset
        token = reader.token()
        if token == "</Topology>":
            return _checked(reader, _Topology(entries, entry_of_phone), start)
        if token != "<TopologyEntry>":
            raise reader.error(f"<Topology>: expected <TopologyEntry> or </Topology>, found "
                               f"{token!r}", token_start)
        reader.expect("<ForPhones>")
        phones = []
        while True:
            field_start = reader.offset
            field = reader.token()
            if field == "</ForPhones>":
                break
            try:
                phones.append(parse_int32(field))
            except ValueError:
                raise reader.error(f"<ForPhones>: expected a phone id, found {field!r}",
                                   field_start) from None
        for phone in phones:
            if phone in entry_of_phone:
                raise reader.error(f"<Topology>: phone {phone} is in two topology entries",
                                   token_start)
            entry_of_phone[phone] = len(entries)
        entries.append(_read_text_entry(reader, len(entries)))


def _read_text_entry(reader: KaldiObjectReader, entry: int) -> List[HmmState]:
    states: List[HmmState] = []
    what = f"<TopologyEntry> {entry}"
    token = reader.token()
    while token != "</TopologyEntry>":
        if token != "<State>":
            raise reader.error(f"{what}: expected <State> or </TopologyEntry>, found {token!r}")
        number = reader.int32(f"{what} state number")
        if number != len(states):
            raise reader.error(f"{what}: state {number} where state {len(states)} was expected "
                               "(states are numbered in order from 0)")
        token = reader.token()
        if token == "<PdfClass>":
            reader.int32(f"{what} <PdfClass>")
            token = reader.token()
        elif token == "<ForwardPdfClass>":
            reader.int32(f"{what} <ForwardPdfClass>")
            reader.expect("<SelfLoopPdfClass>")
            reader.int32(f"{what} <SelfLoopPdfClass>")
            token = reader.token()
        transitions = []
        while token == "<Transition>":
            transitions.append((reader.int32(f"{what} transition destination"),
                                reader.real(f"{what} transition probability")))
            if len(transitions) > MAX_TRANSITIONS:
                raise reader.error(f"{what}: more than {MAX_TRANSITIONS} transitions")
            token = reader.token()
        if token != "</State>":
            raise reader.error(f"{what}: expected <Transition> or </State>, found {token!r}")
        states.append(HmmState(tuple(transitions)))
        if len(states) > MAX_ENTRY_STATES:
            raise reader.error(f"{what}: more than {MAX_ENTRY_STATES} states")
        token = reader.token()
    return states


def _checked(reader: KaldiObjectReader, topology: _Topology, start: int) -> _Topology:
    """Every transition leads to a state of its entry (Kaldi's HmmTopology::Check, the part the
    numbering relies on)."""
    for index, states in enumerate(topology.entries):
        for state in states:
            for destination, _ in state.transitions:
                if not 0 <= destination < len(states):
                    raise reader.error(f"<Topology> entry {index}: a transition to state "
                                       f"{destination}, which the entry has not", start)
    return topology


def _read_tuples(reader: KaldiObjectReader, topology: _Topology
                 ) -> List[Tuple[int, int, int, int]]:
    """(phone, HMM state, forward pdf, self-loop pdf) of each transition state, in order."""
    start = reader.offset
    kind = reader.token()
    if kind not in ("<Triples>", "<Tuples>"):
        raise reader.error(f"expected <Triples> or <Tuples>, found {kind!r}", start)
    count = reader.int32(f"{kind} count")
    if not 0 <= count <= MAX_TUPLES:
        raise reader.error(f"{kind}: impossible count {count}")
    tuples = []
    for index in range(count):
        what = f"{kind} entry {index}"
        tuple_start = reader.offset
        phone = reader.int32(f"{what} phone")
        hmm_state = reader.int32(f"{what} HMM state")
        forward = reader.int32(f"{what} forward pdf")
        self_loop = reader.int32(f"{what} self-loop pdf") if kind == "<Tuples>" else forward
        entry = topology.entry_of_phone.get(phone)
        if entry is None:
            raise reader.error(f"{what}: phone {phone} is not in the topology", tuple_start)
        if not 0 <= hmm_state < len(topology.entries[entry]):
            raise reader.error(f"{what}: phone {phone} has no HMM state {hmm_state}",
                               tuple_start)
        if not (0 <= forward < MAX_PDFS and 0 <= self_loop < MAX_PDFS):
            raise reader.error(f"{what}: pdf-id out of [0, {MAX_PDFS})", tuple_start)
        tuples.append((phone, hmm_state, forward, self_loop))
    closing = "</Triples>" if kind == "<Triples>" else "</Tuples>"
    reader.expect(closing)
    return tuples


def _number_transition_ids(reader: KaldiObjectReader, topology: _Topology,
                           tuples: List[Tuple[int, int, int, int]], start: int) -> np.ndarray:
    states = [topology.entries[topology.entry_of_phone[phone]][hmm_state]
              for phone, hmm_state, _, _ in tuples]
    total = sum(len(state.transitions) for state in states)
    if total > MAX_TUPLES:  # checked before the map is built
        raise reader.error(f"{total} transition-ids: too many", start)
    pdf_of = [NO_PDF]  # transition-ids start at 1
    for (_, hmm_state, forward, self_loop), state in zip(tuples, states):
        for destination, _ in state.transitions:
            pdf_of.append(self_loop if destination == hmm_state else forward)
    return np.array(pdf_of, dtype=np.int32)
