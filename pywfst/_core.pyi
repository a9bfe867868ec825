"""Type stub for pywfst._core, the native extension (csrc/python/)."""

import os
import numpy
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

class StaleGraphError(ValueError):
    """A mapped graph file made from another HCLG.fst or by another format version."""

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
    @staticmethod
    def map(path: Union[str, bytes, os.PathLike[str], os.PathLike[bytes]],
            source: Optional[Tuple[int, int]] = None) -> CsrGraph:
        """Map a graph file written by ``write_mapped`` (shared, read-only), checking every field.

        ``source`` is the ``(size, mtime_ns)`` the file must have been written from, else
        StaleGraphError (also for another format version or byte order). OSError when it
        cannot be read, ValueError naming the file when it is corrupt or truncated.
        """
    def write_mapped(self, path: Union[str, bytes, os.PathLike[str], os.PathLike[bytes]],
                     source: Tuple[int, int]) -> None:
        """Write the graph for ``map``, recording ``source`` (size, mtime_ns); atomic (rename)."""
    def write_fst(self, path: Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]) -> None:
        """Write the graph as an OpenFst binary vector FST (what ``load`` reads); atomic."""
    @property
    def mapped(self) -> bool:
        """True when the arrays live in a mapped graph file (shared between processes)."""
    @property
    def num_states(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def num_emitting_arcs(self) -> int: ...
    @property
    def num_epsilon_arcs(self) -> int: ...
    @property
    def num_nonterminal_arcs(self) -> int: ...
    @property
    def num_arcs(self) -> int: ...
    @property
    def max_input_label(self) -> int: ...
    @property
    def max_output_label(self) -> int: ...
    @property
    def negative_epsilon_cycle(self) -> str:
        """Empty, or where an epsilon cycle of negative cost is (decoders refuse the graph)."""
    def output_labels(self) -> "numpy.ndarray":
        """The distinct output labels > 0 on any arc, ascending (int32)."""
    @property
    def memory_bytes(self) -> int: ...
    def final(self, state: int) -> float:
        """Final weight of ``state`` (+inf when not final); IndexError when out of range."""
    def arcs(self, state: int) -> List[Tuple[int, int, float, int]]:
        """``(ilabel, olabel, weight, nextstate)`` tuples: emitting arcs first, then epsilon,
        then class-slot (nonterminal) arcs."""

MAX_CLASSES: int
MAX_CONTEXTS: int
CLASS_WORD_STRIDE: int

def compose(left: CsrGraph, right: CsrGraph) -> CsrGraph:
    """left ∘ right as OpenFst composes it (sequence filter), states numbered breadth-first."""
def determinize_star(graph: CsrGraph, delta: float) -> CsrGraph:
    """Epsilon removal and determinization as Kaldi's fstdeterminizestar does it, state for state."""
def minimize_encoded(graph: CsrGraph, delta: float) -> CsrGraph:
    """The minimal graph as Kaldi's fstminimizeencoded makes it, states numbered breadth-first."""
def enter_label(class_index: int, context: int) -> int:
    """Input label of the arc entering class slot ``class_index`` from topology state ``context``."""
def return_label(context: int) -> int:
    """Input label of the arc returning from a class sub-graph into topology state ``context``."""

class ClassGraph:
    """The compiled sub-graph of one class slot's entries; immutable, shareable."""

    @property
    def num_states(self) -> int: ...
    @property
    def num_arcs(self) -> int: ...
    @property
    def num_entries(self) -> int: ...

class ClassCompiler:
    """Compiles class entries into sub-graphs for one graph's bare topology."""

    def __init__(self, topology: CsrGraph, contexts: Sequence[int], optional_token: int = -1) -> None: ...
    def compile(self, labels: Sequence[int], pronunciation_offsets: Sequence[int],
                token_offsets: Sequence[int], tokens: Sequence[int], entry_offsets: Sequence[int],
                entry_words: Sequence[int], costs: Sequence[float]) -> ClassGraph:
        """A class in flat form (see the binding's docstring); ValueError names the word or entry."""

class DecoderOptions:
    """The decoder's options (csrc/decoder/decoder_options.h): one attribute per entry of
    specs(), each option written once there."""

    def __init__(self) -> None: ...
    def __getattr__(self, name: str) -> Union[bool, int, float]: ...
    def __setattr__(self, name: str, value: Union[bool, int, float]) -> None: ...
    def check(self) -> None:
        """Raise ValueError naming the first invalid option."""
    @staticmethod
    def specs() -> List[Dict[str, Any]]:
        """Each option: name, type ('bool', 'int' or 'float'), default, low, low_excluded, high,
        doc, expected (the range in words)."""

class Hypothesis:
    """One path: word ids, frames, per-frame alignment and costs."""

    @property
    def words(self) -> List[int]: ...
    @property
    def word_frames(self) -> List[int]: ...
    @property
    def alignment(self) -> List[int]: ...
    @property
    def continues_token(self) -> List[bool]: ...
    @property
    def total_cost(self) -> float: ...
    @property
    def acoustic_cost(self) -> float: ...
    @property
    def boost_cost(self) -> float: ...
    @property
    def graph_cost(self) -> float: ...

class WordLattice:
    """A determinized word lattice (options.lattice); state 0 is the start."""

    @property
    def num_states(self) -> int: ...
    @property
    def beam(self) -> float: ...
    @property
    def arcs(self) -> List[Tuple[int, int, int, float, float, Tuple[int, ...], Tuple[bool, ...]]]:
        """(source, target, word id, graph cost, acoustic cost, emission columns, self-loop
        flags)."""
    @property
    def finals(self) -> List[Tuple[int, float, float, Tuple[int, ...], Tuple[bool, ...]]]:
        """(state, graph cost, acoustic cost, emission columns, self-loop flags)."""

class DecodeResult:
    @property
    def hypotheses(self) -> List[Hypothesis]: ...
    @property
    def reached_final(self) -> bool: ...
    @property
    def num_frames(self) -> int: ...
    @property
    def lattice(self) -> Optional[WordLattice]: ...

class PhraseBoost:
    """Aho-Corasick automaton over word ids for run-time phrase boosting; immutable."""

    def __init__(self, phrases: Sequence[Tuple[Sequence[int], float]]) -> None: ...
    @property
    def num_phrases(self) -> int: ...
    @property
    def num_nodes(self) -> int: ...
    def sequence_cost(self, words: Sequence[int]) -> float: ...
    def outcomes(self, words: Sequence[int]) -> Tuple[float, float]: ...

class BeamSearch:
    """Token-passing Viterbi beam search; holds its graph. One call at a time: a call from a
    second thread meanwhile raises RuntimeError. Ctrl-C raises KeyboardInterrupt."""

    def __init__(self, graph: CsrGraph, options: DecoderOptions) -> None: ...
    def decode(self, scores: "numpy.ndarray", log_softmax: bool = False,
               log_priors: Optional["numpy.ndarray"] = None,
               label_columns: Optional["numpy.ndarray"] = None,
               boost: Optional[PhraseBoost] = None,
               classes: Sequence[Optional[ClassGraph]] = ()) -> DecodeResult: ...

def decode_batch(graph: CsrGraph, options: DecoderOptions, batch: Sequence["numpy.ndarray"],
                 log_softmax: bool = False,
                 log_priors: Optional["numpy.ndarray"] = None,
                 label_columns: Optional["numpy.ndarray"] = None, num_threads: int = 0,
                 names: Optional[Sequence[str]] = None,
                 boost: Optional[PhraseBoost] = None,
                 classes: Sequence[Optional[ClassGraph]] = ()) -> List[DecodeResult]: ...
