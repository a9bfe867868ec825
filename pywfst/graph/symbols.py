"""Symbol tables: tokens.txt (k2/icefall style ``symbol id``) and words.txt."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Union

from ..errors import InputFileError
from .textfile import numbered_lines

BLANK_SYMBOLS = ("<blk>", "<blank>")
EPSILON_SYMBOL = "<eps>"
# icefall's tokens.txt lists its disambiguation symbols (#0, #1, ...) after the real tokens; they
# are not emission columns, so they are skipped when reading.
_DISAMBIG_PATTERN = re.compile(r"^#\d+$")


@dataclass
class SymbolTable:
    """A bijection between symbols and non-negative integer ids."""

    to_id: Dict[str, int] = field(default_factory=dict)
    to_symbol: Dict[int, str] = field(default_factory=dict)

    def add(self, symbol: str, sym_id: int) -> None:
        self.to_id[symbol] = sym_id
        self.to_symbol[sym_id] = symbol

    def __contains__(self, symbol: str) -> bool:
        return symbol in self.to_id

    def __len__(self) -> int:
        return len(self.to_id)

    def __getitem__(self, symbol: str) -> int:
        return self.to_id[symbol]

    def max_id(self) -> int:
        return max(self.to_symbol) if self.to_symbol else -1

    def items(self) -> List[tuple]:
        """(symbol, id) pairs in id order."""
        return sorted(self.to_id.items(), key=lambda item: item[1])

    def write(self, path: Union[str, Path]) -> None:
        with open(path, "w", encoding="utf-8") as out:
            for symbol, sym_id in self.items():
                out.write(f"{symbol} {sym_id}\n")


def read_symbol_table(path: Union[str, Path], skip_disambig: bool = False,
                      max_id: Optional[int] = None, limit: str = "") -> SymbolTable:
    """Reads a ``symbol id`` file, rejecting malformed lines, duplicate symbols or ids, and ids
    above ``max_id`` (``limit`` says why there is one)."""
    table = SymbolTable()
    for line_no, line in numbered_lines(path, "symbol table"):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise InputFileError(path, line_no, f"expected 'symbol id', got {line.strip()!r}")
        symbol, id_text = fields
        try:
            sym_id = int(id_text)
        except ValueError:
            raise InputFileError(path, line_no, f"id {id_text!r} is not an integer") from None
        if sym_id < 0:
            raise InputFileError(path, line_no, f"negative id {sym_id}")
        if skip_disambig and _DISAMBIG_PATTERN.match(symbol):
            continue
        if max_id is not None and sym_id > max_id:
            raise InputFileError(path, line_no, f"id {sym_id} of {symbol!r} is too large: {limit}")
        if symbol in table.to_id:
            raise InputFileError(path, line_no, f"duplicate symbol {symbol!r}")
        if sym_id in table.to_symbol:
            raise InputFileError(
                path, line_no, f"duplicate id {sym_id} ({table.to_symbol[sym_id]!r} has it)")
        table.add(symbol, sym_id)
    if not table:
        raise InputFileError(path, None, "symbol table is empty")
    return table


def read_words(path: Union[str, Path]) -> SymbolTable:
    """Reads words.txt. Word ids stay below the labels of class-slot words."""
    from .. import _core

    stride = _core.CLASS_WORD_STRIDE
    return read_symbol_table(path, max_id=stride - 1, limit=f"word ids must be below {stride} "
                             "(2**24); labels from there on are class-slot words")


@dataclass
class TokenSet:
    """The AM's output units. Emission column ``j`` is token id ``j``; the graph uses ``j + 1``."""

    table: SymbolTable
    path: str
    blank_id: int  # -1 when the set has no blank (HMM / identity topologies)

    @property
    def num_columns(self) -> int:
        """Number of emission columns the tokens need (max id + 1)."""
        return self.table.max_id() + 1

    def real_tokens(self) -> List[tuple]:
        """(symbol, id) of every token that may appear in a lexicon (no blank, no <eps>)."""
        return [(s, i) for s, i in self.table.items() if i != self.blank_id and s != EPSILON_SYMBOL]

    def id_of(self, symbol: str, path: Union[str, Path], line_no: int) -> int:
        """Token id of ``symbol`` as used on line ``line_no`` of ``path``; unknown symbols raise."""
        sym_id = self.table.to_id.get(symbol)
        if sym_id is None or sym_id == self.blank_id or symbol == EPSILON_SYMBOL:
            reason = "is the blank" if sym_id is not None else f"is not in {self.path}"
            raise InputFileError(path, line_no, f"token {symbol!r} {reason}")
        return sym_id


def read_tokens(path: Union[str, Path], require_blank: bool = True,
                states_per_token: int = 1) -> TokenSet:
    """Reads tokens.txt. With ``require_blank`` (CTC topologies) id 0 must be <blk> or <blank>.

    Every token's emission columns (``id * states_per_token + k``), plus 1, must be graph input
    labels below the first class-slot nonterminal label (csrc/fst/nonterminal.h)."""
    from .. import _core

    first_nonterminal = _core.return_label(0)  # kNonterminalBase = 2**28
    max_id = (first_nonterminal - 1) // states_per_token - 1
    per_state = f" with {states_per_token} HMM states per token" if states_per_token > 1 else ""
    table = read_symbol_table(
        path, skip_disambig=True, max_id=max_id,
        limit=f"the largest token id{per_state} is {max_id} (graph input labels, emission "
        f"column + 1, must stay below {first_nonterminal} = 2**28, where class-slot labels begin)")
    zero = table.to_symbol.get(0)
    blank_id = 0 if zero in BLANK_SYMBOLS else -1
    if require_blank and blank_id != 0:
        found = f"{zero!r}" if zero is not None else "nothing"
        raise InputFileError(
            path, None, f"CTC needs the blank {BLANK_SYMBOLS[0]!r} (or {BLANK_SYMBOLS[1]!r}) "
            f"with id 0; id 0 is {found}")
    for symbol in BLANK_SYMBOLS:
        if symbol in table and table[symbol] != 0:
            raise InputFileError(path, None, f"blank {symbol!r} must have id 0, has {table[symbol]}")
    return TokenSet(table=table, path=str(path), blank_id=blank_id)


def make_word_table(words: Iterable[str], disambig: Sequence[str] = ("#0",)) -> SymbolTable:
    """words.txt in Kaldi's layout: <eps> 0, the words sorted, then the word-level disambiguation
    symbols (#0, and #1 when a word class needs it), <s>, </s>."""
    table = SymbolTable()
    table.add(EPSILON_SYMBOL, 0)
    for word in sorted(set(words)):
        table.add(word, len(table))
    for symbol in (*disambig, "<s>", "</s>"):
        table.add(symbol, len(table))
    return table
