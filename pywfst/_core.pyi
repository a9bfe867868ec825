"""Type stub for pywfst._core, the native extension (csrc/python/)."""

import os
from typing import List, Tuple, Union

class CsrGraph:
    """A read-only decoding graph in compressed-sparse-row form.

    Emitting arcs (input label > 0, = token id + 1) are stored apart from epsilon arcs (input
    label 0). Weights are tropical costs; a non-final state has final weight +inf.
    """

    @staticmethod
    def load(path: Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]) -> CsrGraph:
        """Read an OpenFst binary file (vector or const FST, standard arcs).

        Raises OSError (FileNotFoundError) when the file cannot be read and ValueError naming the
        file when it is not a supported, well-formed OpenFst file.
        """
    @property
    def num_states(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def num_emitting_arcs(self) -> int: ...
    @property
    def num_epsilon_arcs(self) -> int: ...
    @property
    def num_arcs(self) -> int: ...
    @property
    def max_input_label(self) -> int: ...
    @property
    def max_output_label(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    def final(self, state: int) -> float:
        """Final weight of ``state`` (+inf when not final); IndexError when out of range."""
    def arcs(self, state: int) -> List[Tuple[int, int, float, int]]:
        """``(ilabel, olabel, weight, nextstate)`` tuples: emitting arcs first, then epsilon."""
