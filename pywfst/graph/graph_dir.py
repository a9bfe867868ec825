"""Graph: a compiled graph directory (HCLG.fst, words.txt, tokens.txt, graph.json) on disk.

A Graph is cheap to create and pickles as its path, so workers of a distributed engine (Ray,
Spark) each load it themselves. The native CSR graph is read on first use and then shared by
every decoder made from this Graph; it is mapped into memory from HCLG.csr (HCLG.fst in the
decoder's own layout, written beside it), so that processes on one machine share one copy
(see ``read_native_graph``). The small files (words.txt, tokens.txt, graph.json,
pronunciations.txt) are read at load, so moving or replacing the directory afterwards changes
nothing a decoder reports.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
import stat
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Set, Tuple, Union

from ..errors import InputFileError
from .symbols import SymbolTable, read_symbol_table

FORMAT_VERSION = 1
GRAPH_FILE = "HCLG.fst"
# HCLG.fst in the decoder's CSR layout, which Graph.load maps into memory instead of parsing
# HCLG.fst; derived from it, written again when stale, safe to delete (csrc/fst/mapped_graph.h).
MAPPED_FILE = "HCLG.csr"
PRONUNCIATIONS_FILE = "pronunciations.txt"  # every word's token sequences, as the graph has them
# Symbols that are never words: a graph whose output labels map to them came with another
# graph's words.txt.
_NOT_WORDS = re.compile(r"^(#\d+|<eps>)$")

if TYPE_CHECKING:
    from ..kaldi import TransitionModel


class Graph:
    def __init__(self, path: Path, info: dict, words: SymbolTable, tokens: SymbolTable,
                 pronunciation_text: Optional[bytes] = None,
                 transition_model: Optional["TransitionModel"] = None):
        self.path = path
        self.info = info
        self.transition_model = transition_model
        self.words = words
        self._word_by_id = _symbols_by_id(words)
        self.tokens = tokens
        self._native = None
        self._native_lock = threading.Lock()
        self._on_device: Dict[str, object] = {}  # device name -> _core.DeviceGraph
        self._pronunciation_text = pronunciation_text  # parsed on first use (word times)
        self._pronunciations: Optional[Dict[int, FrozenSet[Tuple[int, ...]]]] = None

    @classmethod
    def load(cls, path: Union[str, Path],
             transition_model: Union[str, Path, "TransitionModel", None] = None) -> "Graph":
        """Loads a directory written by ``build_graph``, or any directory holding a Kaldi-style
        HCLG.fst with words.txt (tokens.txt and graph.json are then optional).

        ``transition_model``: a Kaldi model file (``final.mdl``) or its
        :class:`pywfst.kaldi.TransitionModel`, for a Kaldi HCLG.fst whose input labels are
        transition-ids: each then reads its pdf-id's column of the acoustic model's [T, num_pdfs]
        scores (no blank), and alignments hold transition-ids, as Kaldi's.
        """
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: not a graph directory"
                                    + (" (it is a file)" if path.exists() else ""))
        _check_regular_file(path / GRAPH_FILE)
        info: dict = {}
        info_path = path / "graph.json"
        if info_path.exists():
            _check_regular_file(info_path)
            try:
                info = json.loads(info_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise InputFileError(info_path, error.lineno, f"invalid JSON: {error.msg}") from None
            except UnicodeDecodeError as error:
                raise InputFileError(info_path, None, f"not UTF-8 text ({error.reason} at byte "
                                     f"{error.start})") from None
            if not isinstance(info, dict):
                raise InputFileError(info_path, 1, "expected a JSON object, got a "
                                     f"{type(info).__name__}")
            version = info.get("format_version")
            if version != FORMAT_VERSION:
                raise InputFileError(info_path, None, f"format_version {version!r} is not "
                                     f"{FORMAT_VERSION}; rebuild the graph with this pywfst")
            _check_info(info, info_path)
        words = read_symbol_table(path / "words.txt")
        tokens_path = path / "tokens.txt"
        tokens = read_symbol_table(tokens_path, skip_disambig=True) if tokens_path.is_file() else SymbolTable()
        pronunciations_path = path / PRONUNCIATIONS_FILE
        text = pronunciations_path.read_bytes() if pronunciations_path.is_file() else None
        if transition_model is not None:
            from ..kaldi import TransitionModel

            if not isinstance(transition_model, TransitionModel):
                transition_model = TransitionModel.read(transition_model)
            info = {**info, "emission_columns": transition_model.num_pdfs, "blank_id": -1}
        return cls(path, info, words, tokens, text, transition_model)

    @property
    def fst_path(self) -> Path:
        return self.path / GRAPH_FILE

    @property
    def mapped_path(self) -> Path:
        return self.path / MAPPED_FILE

    @property
    def native(self):
        """The decoding graph in the native CSR layout (loaded once, shared by decoders)."""
        with self._native_lock:
            if self._native is None:
                native = read_native_graph(self.fst_path, self.mapped_path)
                self._check_input_labels(native.max_input_label)
                self._check_words(native.output_labels())
                self._native = native
        return self._native

    def on_device(self, device: str):
        """The graph uploaded to ``device`` ("cuda:N" or "cuda-sim"), once, then shared by every
        GPU decoder made from this Graph."""
        native = self.native
        with self._native_lock:
            if device not in self._on_device:
                from .. import _core

                self._on_device[device] = _core.DeviceGraph(native, device)
            return self._on_device[device]

    def _check_input_labels(self, max_input_label: int) -> None:
        """Every input label reads a transition-id of the model, or an emission column that
        graph.json gives (a damaged HCLG.fst would otherwise fail only at decode time, in a
        message about the emissions)."""
        model = self.transition_model
        if model is not None:
            if max_input_label > model.num_transition_ids:
                raise InputFileError(self.fst_path, None, f"reads transition-id "
                                     f"{max_input_label}, but {model.path} has "
                                     f"{model.num_transition_ids}: the graph and the model do not "
                                     "belong together")
        elif self.emission_columns is not None and max_input_label > self.emission_columns:
            raise InputFileError(self.fst_path, None, f"reads emission column "
                                 f"{max_input_label - 1}, but {self.emission_columns} columns are "
                                 f"{self.emission_columns_origin}: {GRAPH_FILE} and graph.json do "
                                 "not belong together")

    def _check_words(self, output_labels) -> None:
        """Every output label of the graph is a word of words.txt (not a disambiguation symbol):
        otherwise words.txt belongs to another graph and decoding would print wrong words."""
        words_path = self.path / "words.txt"
        for label in output_labels.tolist():
            symbol = self.words.to_symbol.get(label)
            if symbol is None:
                raise InputFileError(words_path, None, f"has no word with id {label}, an output "
                                     f"label of {self.fst_path}: words.txt and {GRAPH_FILE} do "
                                     "not belong together")
            if _NOT_WORDS.match(symbol):
                raise InputFileError(words_path, None, f"id {label} is {symbol!r}, but it is an "
                                     f"output label of {self.fst_path}: words.txt and "
                                     f"{GRAPH_FILE} do not belong together")

    @property
    def frame_shift(self) -> Optional[float]:
        """Seconds per emission frame the graph was built for (``build-graph --frame-shift``), or
        None when not recorded."""
        return self.info.get("frame_shift")

    @property
    def emission_columns(self) -> Optional[int]:
        """Emission columns the graph reads: the tokens of its tokens.txt, or the pdfs of its
        transition model (None for a foreign graph)."""
        return self.info.get("emission_columns")

    @property
    def label_columns(self):
        """None, or per input label the emission column it reads (a Kaldi graph's transition-id
        reads its pdf-id's column; entry 0 is unused): what the search gets as its label map."""
        return None if self.transition_model is None else self.transition_model.pdf_of

    @property
    def emission_columns_origin(self) -> str:
        """Where :attr:`emission_columns` comes from, for messages."""
        if self.transition_model is not None:
            return f"the pdfs of {self.transition_model.path}"
        return "the tokens of its tokens.txt"

    @property
    def blank_id(self) -> int:
        return self.info.get("blank_id", 0)

    @property
    def states_per_token(self) -> int:
        options = self.info.get("options", {})
        return options.get("hmm_states", 1) if options.get("topology") == "hmm" else 1

    @property
    def optional_token_ids(self) -> Set[int]:
        """Tokens that may stand between words without belonging to one (an optional '|')."""
        boundary = self.info.get("word_boundary")
        return {boundary["token_id"]} if boundary and boundary["optional"] else set()

    @property
    def final_token_ids(self) -> Set[int]:
        """Tokens that end every word, which the utterance's last word may leave out (a
        mandatory '|')."""
        boundary = self.info.get("word_boundary")
        return {boundary["token_id"]} if boundary and not boundary["optional"] else set()

    @property
    def pronunciations(self) -> Optional[Dict[int, FrozenSet[Tuple[int, ...]]]]:
        """word id -> token-id sequences, from pronunciations.txt (None when absent)."""
        if self._pronunciations is None and self._pronunciation_text is not None:
            path = self.path / PRONUNCIATIONS_FILE
            found: Dict[int, Set[Tuple[int, ...]]] = {}
            for line_no, line in enumerate(self._pronunciation_text.splitlines(), start=1):
                try:
                    fields = line.decode("utf-8").split()
                    word = self.words[fields[0]]
                    tokens = tuple(self.tokens[t] for t in fields[1:])
                except UnicodeDecodeError:
                    raise InputFileError(path, line_no, "not UTF-8 text") from None
                except (KeyError, IndexError):
                    raise InputFileError(path, line_no, "unknown word or token") from None
                found.setdefault(word, set()).add(tokens)
            self._pronunciations = {w: frozenset(p) for w, p in found.items()}
        return self._pronunciations

    def word(self, word_id: int) -> str:
        return self.words.to_symbol.get(word_id, f"<unknown-word-{word_id}>")

    def word_sequence(self, word_ids: List[int]) -> List[str]:
        by_id = self._word_by_id
        if by_id is None:
            return [self.word(w) for w in word_ids if w != 0]
        known = len(by_id)  # (symbols are never empty: `or` only finds the unknown ids)
        return [(by_id[w] if 0 <= w < known else None) or self.word(w)
                for w in word_ids if w != 0]

    def __reduce__(self):  # absolute paths: another process may run in another directory
        model = self.transition_model
        return (Graph.load, (str(self.path.resolve()),
                             str(Path(model.path).resolve()) if model is not None else None))

    def __repr__(self) -> str:
        return f"Graph({str(self.path)!r})"


def read_native_graph(fst_path: Path, mapped_path: Path):
    """``fst_path`` (HCLG.fst) as a native ``CsrGraph``, mapped from ``mapped_path`` (HCLG.csr)
    when that file was written from this HCLG.fst (its size and mtime recorded): processes that
    load the same graph then share one copy of it in memory, and loading costs a check of the
    file instead of a parse. Otherwise HCLG.fst is parsed, and the mapped file written beside it
    (atomically) and mapped; where it cannot be written (a read-only directory), the parsed graph
    is used as it is. A corrupt mapped file is never used: a warning names it, and it is written
    again from HCLG.fst."""
    from .. import _core

    source = _source_stamp(fst_path)
    try:
        return _core.CsrGraph.map(str(mapped_path), source)
    except (_core.StaleGraphError, OSError):  # absent, stale, unreadable: HCLG.fst decides
        pass
    except ValueError as error:
        warnings.warn(f"{error}; reading {fst_path.name} instead and writing "
                      f"{mapped_path.name} again", stacklevel=3)
    native = _core.CsrGraph.load(str(fst_path))
    try:
        native.write_mapped(str(mapped_path), source)
        return _core.CsrGraph.map(str(mapped_path), source)
    except (OSError, ValueError):  # not writable, or replaced meanwhile: this process's own copy
        return native


def write_native_graph(native, fst_path: Path, mapped_path: Path) -> None:
    """Writes a native ``CsrGraph`` as ``fst_path`` (HCLG.fst) and, recording that file's size and
    mtime, as ``mapped_path`` (HCLG.csr), which ``read_native_graph`` then maps."""
    native.write_fst(str(fst_path))
    native.write_mapped(str(mapped_path), _source_stamp(fst_path))


def _symbols_by_id(table: SymbolTable) -> Optional[List[Optional[str]]]:
    """The symbols in a list indexed by id (None for an unused id), where the ids are about as
    many as the symbols: a decoded word then costs a list index rather than a probe of a large
    dict, whose entry, key and value lie in three places that are rarely in cache."""
    if table.max_id() >= 2 * len(table) + 1024:  # sparse ids: the dict alone
        return None
    by_id: List[Optional[str]] = [None] * (table.max_id() + 1)
    for sym_id, symbol in table.to_symbol.items():
        by_id[sym_id] = symbol
    return by_id


def _source_stamp(fst_path: Path) -> Tuple[int, int]:
    """What a mapped file records of the HCLG.fst it was made from: (size, mtime in ns)."""
    fst_stat = fst_path.stat()
    return fst_stat.st_size, fst_stat.st_mtime_ns


def _check_regular_file(path: Path) -> None:
    """Opening a FIFO would block and a directory cannot be read: say so instead."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path.parent}: no {path.name} in this directory") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputFileError(path, None, f"{kind}; expected the graph's {path.name}")


def _is_count(value, minimum: int = 0) -> bool:
    """An integer (not a bool) >= ``minimum`` that native code can hold (< 2^31)."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value < 2**31


def _is_list(value, item_valid) -> bool:
    return isinstance(value, list) and all(map(item_valid, value))


# graph.json fields the loader and decoder use: (valid, what is expected). null means "absent".
_INFO_FIELDS = {
    "frame_shift": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                    and math.isfinite(v) and v > 0, "a number of seconds > 0"),
    "emission_columns": (lambda v: _is_count(v, 1), "an integer > 0"),
    "blank_id": (lambda v: _is_count(v, -1), "an integer >= -1"),  # -1: no blank (hmm)
    "lexicon_mode": (lambda v: v in ("lexicon", "spell", "bpe"), '"lexicon", "spell" or "bpe"'),
    "word_boundary": (lambda v: isinstance(v, dict) and _is_count(v.get("token_id"))
                      and isinstance(v.get("optional"), bool)
                      and isinstance(v.get("token", ""), str),
                      'null or {"token": str, "token_id": int >= 0, "optional": bool}'),
    "class_slots": (lambda v: isinstance(v, dict) and isinstance(v.get("topology"), str)
                    and _is_list(v.get("word_states"), _is_count)
                    and _is_list(v.get("slots"), lambda slot: isinstance(slot, dict)
                                 and isinstance(slot.get("name"), str)),
                    'null or {"topology": str, "word_states": [int >= 0, ...], '
                    '"slots": [{"name": str, ...}, ...]}'),
    "inputs": (lambda v: isinstance(v, dict) and all(
        isinstance(entry, dict) and isinstance(entry.get("path"), str) for entry in v.values()),
        '{name: {"path": str, ...}, ...}'),
}


def _check_info(info: dict, path: Path) -> None:
    """The graph.json fields the loader and decoder rely on have usable values and shapes."""
    for key, (valid, expected) in _INFO_FIELDS.items():
        if info.get(key) is not None and not valid(info[key]):
            raise InputFileError(path, None, f"{key}: expected {expected}, got "
                                 f"{reprlib.repr(info[key])}")
    options = info.get("options", {})
    if not isinstance(options, dict):
        raise InputFileError(path, None, f"options: expected an object, got {options!r}")
    states = options.get("hmm_states", 1)
    if not _is_count(states, 1):
        raise InputFileError(path, None, f"options.hmm_states: must be an integer >= 1, got "
                             f"{states!r}")
