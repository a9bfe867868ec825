"""Graph: a compiled graph directory (HCLG.fst, words.txt, tokens.txt, graph.json) on disk.

A Graph is cheap to create and pickles as its path, so workers of a distributed engine (Ray,
Spark) each load it themselves. The native CSR graph is read on first use and then shared by
every decoder made from this Graph.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Set, Tuple, Union

from ..errors import InputFileError
from .symbols import SymbolTable, read_symbol_table

FORMAT_VERSION = 1
GRAPH_FILE = "HCLG.fst"
PRONUNCIATIONS_FILE = "pronunciations.txt"  # every word's token sequences, as the graph has them


class Graph:
    def __init__(self, path: Path, info: dict, words: SymbolTable, tokens: SymbolTable):
        self.path = path
        self.info = info
        self.words = words
        self.tokens = tokens
        self._native = None
        self._pronunciations: Optional[Dict[int, FrozenSet[Tuple[int, ...]]]] = None

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Graph":
        """Loads a directory written by ``build_graph``, or any directory holding a Kaldi-style
        HCLG.fst with words.txt (tokens.txt and graph.json are then optional)."""
        path = Path(path)
        if not (path / GRAPH_FILE).is_file():
            raise FileNotFoundError(f"{path}: no {GRAPH_FILE} in this directory")
        info: dict = {}
        info_path = path / "graph.json"
        if info_path.is_file():
            try:
                info = json.loads(info_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise InputFileError(info_path, error.lineno, f"invalid JSON: {error.msg}") from None
            version = info.get("format_version")
            if version != FORMAT_VERSION:
                raise InputFileError(info_path, None, f"format_version {version!r} is not "
                                     f"{FORMAT_VERSION}; rebuild the graph with this pywfst")
        words = read_symbol_table(path / "words.txt")
        tokens_path = path / "tokens.txt"
        tokens = read_symbol_table(tokens_path, skip_disambig=True) if tokens_path.is_file() else SymbolTable()
        return cls(path, info, words, tokens)

    @property
    def fst_path(self) -> Path:
        return self.path / GRAPH_FILE

    @property
    def native(self):
        """The decoding graph in the native CSR layout (loaded once, shared by decoders)."""
        if self._native is None:
            from .. import _core

            self._native = _core.CsrGraph.load(str(self.fst_path))
        return self._native

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
    def pronunciations(self) -> Optional[Dict[int, FrozenSet[Tuple[int, ...]]]]:
        """word id -> token-id sequences, from pronunciations.txt (None when absent)."""
        path = self.path / PRONUNCIATIONS_FILE
        if self._pronunciations is None and path.is_file():
            found: Dict[int, Set[Tuple[int, ...]]] = {}
            with open(path, encoding="utf-8") as handle:
                for line_no, line in enumerate(handle, start=1):
                    fields = line.split()
                    try:
                        word = self.words[fields[0]]
                        tokens = tuple(self.tokens[t] for t in fields[1:])
                    except (KeyError, IndexError):
                        raise InputFileError(path, line_no, "unknown word or token") from None
                    found.setdefault(word, set()).add(tokens)
            self._pronunciations = {w: frozenset(p) for w, p in found.items()}
        return self._pronunciations

    def word(self, word_id: int) -> str:
        return self.words.to_symbol.get(word_id, f"<unknown-word-{word_id}>")

    def word_sequence(self, word_ids: List[int]) -> List[str]:
        return [self.word(w) for w in word_ids if w != 0]

    def __reduce__(self):
        return (Graph.load, (str(self.path),))

    def __repr__(self) -> str:
        return f"Graph({str(self.path)!r})"
