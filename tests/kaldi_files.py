"""Writes Kaldi model files the way Kaldi's TransitionModel::Write does, binary or text, for the
tests of pywfst.kaldi. Its primitives are checked against kaldi-native-io's (an independent
implementation of Kaldi's I/O) in tests/test_kaldi_hybrid.py."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Sequence, Tuple

# One HMM state of a topology entry: (forward pdf class, self-loop pdf class, transitions); the
# pdf classes are -1 for a state without a pdf (the final state).
State = Tuple[int, int, Sequence[Tuple[int, float]]]


class KaldiWriter:
    def __init__(self, binary: bool):
        self.binary = binary
        self.data = bytearray(b"\0B" if binary else b"")

    def newline(self) -> None:
        if not self.binary:
            self.data += b"\n"

    def token(self, token: str) -> None:
        self.data += token.encode() + b" "

    def int32(self, value: int) -> None:
        self.data += b"\x04" + struct.pack("<i", value) if self.binary else f"{value} ".encode()

    def real(self, value: float) -> None:
        self.data += b"\x04" + struct.pack("<f", value) if self.binary else f"{value:g} ".encode()

    def int32_vector(self, values: Sequence[int]) -> None:  # Kaldi's WriteIntegerVector
        if self.binary:
            self.data += b"\x04" + struct.pack(f"<i{len(values)}i", len(values), *values)
        else:
            self.data += ("[ " + "".join(f"{v} " for v in values) + "]\n").encode()

    def real_vector(self, values: Sequence[float]) -> None:  # Kaldi's Vector<float>::Write
        if self.binary:
            self.token("FV")
            self.int32(len(values))
            self.data += struct.pack(f"<{len(values)}f", *values)
        else:
            self.data += (" [ " + "".join(f"{v:g} " for v in values) + "]\n").encode()


@dataclass
class KaldiTransitionModel:
    """A transition model as Kaldi holds it: topology entries and the phones of each, and the
    transition-state tuples (phone, HMM state, forward pdf, self-loop pdf)."""

    entries: List[List[State]]
    phones_of_entry: List[List[int]]
    tuples: List[Tuple[int, int, int, int]]

    @property
    def separate_self_loop_pdfs(self) -> bool:
        return any(forward != self_loop for entry in self.entries for forward, self_loop, _ in entry)

    def transition_ids(self) -> List[Tuple[int, bool]]:
        """(tuple index, is self-loop) of each transition-id 1, 2, ..., as Kaldi numbers them."""
        entry_of = {p: e for e, phones in enumerate(self.phones_of_entry) for p in phones}
        ids = []
        for index, (phone, hmm_state, _, _) in enumerate(self.tuples):
            for destination, _ in self.entries[entry_of[phone]][hmm_state][2]:
                ids.append((index, destination == hmm_state))
        return ids

    def write(self, path, binary: bool, tuples_token: str = "") -> bytes:
        out = KaldiWriter(binary)
        out.token("<TransitionModel>")
        out.newline()
        self._write_topology(out)
        tuples_token = tuples_token or ("<Tuples>" if self.separate_self_loop_pdfs else "<Triples>")
        out.token(tuples_token)
        out.int32(len(self.tuples))
        out.newline()
        for phone, hmm_state, forward, self_loop in self.tuples:
            for value in (phone, hmm_state, forward) + ((self_loop,) if tuples_token == "<Tuples>"
                                                        else ()):
                out.int32(value)
            out.newline()
        out.token(tuples_token.replace("<", "</"))
        out.newline()
        out.token("<LogProbs>")
        out.newline()
        out.real_vector([0.0] + [-0.5] * len(self.transition_ids()))
        out.token("</LogProbs>")
        out.newline()
        out.token("</TransitionModel>")
        out.newline()
        data = bytes(out.data) + b"<Nnet3> the network follows; pywfst never reads it\n"
        if path is not None:
            path.write_bytes(data)
        return data

    def _write_topology(self, out: KaldiWriter) -> None:
        out.token("<Topology>")
        out.newline()
        if not out.binary:
            for entry, phones in zip(self.entries, self.phones_of_entry):
                out.token("<TopologyEntry>")
                out.newline()
                out.token("<ForPhones>")
                out.newline()
                out.data += " ".join(map(str, phones)).encode() + b" \n"
                out.token("</ForPhones>")
                out.newline()
                for number, (forward, self_loop, transitions) in enumerate(entry):
                    out.token("<State>")
                    out.int32(number)
                    if forward != -1 and forward == self_loop:
                        out.token("<PdfClass>")
                        out.int32(forward)
                    elif forward != -1:
                        out.token("<ForwardPdfClass>")
                        out.int32(forward)
                        out.token("<SelfLoopPdfClass>")
                        out.int32(self_loop)
                    for destination, probability in transitions:
                        out.token("<Transition>")
                        out.int32(destination)
                        out.real(probability)
                    out.token("</State>")
                    out.newline()
                out.token("</TopologyEntry>")
                out.newline()
        else:
            phones = sorted(p for ps in self.phones_of_entry for p in ps)
            phone_to_entry = [-1] * (max(phones) + 1)
            for entry, ps in enumerate(self.phones_of_entry):
                for phone in ps:
                    phone_to_entry[phone] = entry
            out.int32_vector(phones)
            out.int32_vector(phone_to_entry)
            if self.separate_self_loop_pdfs:
                out.int32(-1)
            out.int32(len(self.entries))
            for entry in self.entries:
                out.int32(len(entry))
                for forward, self_loop, transitions in entry:
                    out.int32(forward)
                    if self.separate_self_loop_pdfs:
                        out.int32(self_loop)
                    out.int32(len(transitions))
                    for destination, probability in transitions:
                        out.int32(destination)
                        out.real(probability)
        out.token("</Topology>")
        out.newline()
