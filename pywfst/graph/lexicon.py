"""Lexicons: reading Kaldi lexicon.txt / lexiconp.txt, deriving spelling and BPE lexicons, adding
Kaldi's disambiguation symbols and compiling L (token sequences -> words) as an OpenFst transducer.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from ..errors import InputFileError
from .symbols import EPSILON_SYMBOL, TokenSet
from .textfile import numbered_lines

if TYPE_CHECKING:  # annotations only: OpenFst is imported where an FST is built, so that a
    import pywrapfst as fst  # decode-only install needs no pynini (DESIGN.md)

# Words the graph reserves for itself (words.txt specials, disambiguation symbols).
_RESERVED_WORDS = {EPSILON_SYMBOL, "<s>", "</s>"}
_DISAMBIG_WORD = re.compile(r"^#\d+$")


@dataclass(frozen=True)
class Pronunciation:
    word: str
    tokens: Tuple[int, ...]  # token ids (emission columns), never blank
    cost: float = 0.0  # -ln(probability) of this pronunciation given the word


@dataclass
class Lexicon:
    entries: List[Pronunciation]
    source: str  # file name or a description of how it was derived

    def words(self) -> List[str]:
        return sorted({entry.word for entry in self.entries})


def check_word(word: str, path: Union[str, Path], line_no: Optional[int]) -> None:
    if word in _RESERVED_WORDS or _DISAMBIG_WORD.match(word):
        raise InputFileError(path, line_no, f"word {word!r} is reserved by the graph compiler")


def write_pronunciations(lexicon: Lexicon, tokens: TokenSet, path: Union[str, Path]) -> None:
    """The lexicon as the graph was built from it (``word tok1 tok2 ...``, token symbols):
    the decoder reads it to place word boundaries."""
    with open(path, "w", encoding="utf-8") as out:
        for entry in lexicon.entries:
            out.write(f"{entry.word} {' '.join(tokens.table.to_symbol[t] for t in entry.tokens)}\n")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_lexicon(path: Union[str, Path], tokens: TokenSet) -> Lexicon:
    """Reads ``word tok1 tok2 ...`` (lexicon.txt) or ``word prob tok1 ...`` (lexiconp.txt).

    The file is a lexiconp.txt when every line's second field is a number and not every one of
    them is a token (so a lexicon whose tokens are digits still reads as lexicon.txt); each
    probability must then be in (0, 1]. Pronunciations of a word may repeat with different
    probabilities. Every token must be in tokens.txt and not be the blank.
    """
    rows = [(n, fields) for n, line in numbered_lines(path, "lexicon") if (fields := line.split())]
    if not rows:
        raise InputFileError(path, None, "lexicon is empty")
    has_probabilities = (all(len(f) >= 2 and _is_number(f[1]) for _, f in rows)
                         and not all(f[1] in tokens.table for _, f in rows))
    entries = []
    for line_no, fields in rows:
        word = fields[0]
        check_word(word, path, line_no)
        cost = 0.0
        symbols = fields[1:]
        if has_probabilities:
            probability = float(fields[1])
            if not 0.0 < probability <= 1.0:  # also false for nan
                raise InputFileError(path, line_no, f"invalid pronunciation probability "
                                     f"{fields[1]!r} (lexiconp.txt needs one in (0, 1])")
            cost = -math.log(probability)
            symbols = fields[2:]
        if not symbols:
            raise InputFileError(path, line_no, f"word {word!r} has no tokens")
        ids = tuple(tokens.id_of(symbol, path, line_no) for symbol in symbols)
        entries.append(Pronunciation(word, ids, cost))
    return Lexicon(entries, source=str(path))


def spell_char(char: str, tokens: TokenSet) -> Optional[int]:
    """Token id of a character, trying the other letter case when the exact one is absent."""
    for candidate in (char, char.upper(), char.lower()):
        sym_id = tokens.table.to_id.get(candidate)
        if sym_id is not None and sym_id != tokens.blank_id:
            return sym_id
    return None


def spell_word(word: str, tokens: TokenSet) -> Optional[Tuple[int, ...]]:
    """The word as a sequence of character tokens, or None when a character has no token."""
    ids = tuple(spell_char(char, tokens) for char in word)
    return None if not ids or None in ids else ids  # type: ignore[return-value]


def spelling_lexicon(words: Iterable[str], tokens: TokenSet,
                     boundary_id: Optional[int] = None) -> Tuple[Lexicon, List[str]]:
    """Spells every word with char tokens; with ``boundary_id`` (a mandatory word boundary) each
    spelling ends with that token. Returns the lexicon and the words that could not be spelled."""
    entries, unspellable = [], []
    for word in words:
        ids = spell_word(word, tokens)
        if ids is None:
            unspellable.append(word)
            continue
        if boundary_id is not None:
            ids = ids + (boundary_id,)
        entries.append(Pronunciation(word, ids))
    return Lexicon(entries, source="spelled from the LM vocabulary"), unspellable


def bpe_lexicon(words: Iterable[str], tokens: TokenSet,
                model_path: Union[str, Path]) -> Tuple[Lexicon, List[str]]:
    """Splits every word into pieces with a sentencepiece model; pieces must be tokens."""
    try:
        import sentencepiece
    except ImportError as error:  # optional dependency
        raise ImportError("BPE lexicons need sentencepiece: pip install 'pywfst[bpe]'") from error
    processor = sentencepiece.SentencePieceProcessor()
    try:
        processor.load(str(model_path))
    except (OSError, RuntimeError) as error:
        raise InputFileError(model_path, None, f"cannot load sentencepiece model: {error}") from None
    entries, unknown = [], []
    for word in words:
        pieces = processor.encode(word, out_type=str)
        ids = [tokens.table.to_id.get(piece) for piece in pieces]
        if not ids or None in ids or tokens.blank_id in ids:
            unknown.append(word)
            continue
        entries.append(Pronunciation(word, tuple(ids)))  # type: ignore[arg-type]
    return Lexicon(entries, source=f"sentencepiece {model_path}"), unknown


def disambiguation_suffixes(prons: Sequence[Tuple[int, ...]]) -> Tuple[List[int], int]:
    """Kaldi's add_lex_disambig rule: a token sequence that occurs more than once (homophones) or
    is a proper prefix of another gets #1, #2, ... appended (numbered per sequence) so that L∘G
    is determinizable. Returns the suffix number per pronunciation (0 = none) and the highest
    number used."""
    counts = Counter(prons)
    prefixes = set()
    for pron in counts:
        for length in range(1, len(pron)):
            prefixes.add(pron[:length])
    used: Dict[Tuple[int, ...], int] = {}
    suffixes, highest = [], 0
    for pron in prons:
        if counts[pron] == 1 and pron not in prefixes:
            suffixes.append(0)
            continue
        used[pron] = used.get(pron, 0) + 1
        suffixes.append(used[pron])
        highest = max(highest, used[pron])
    return suffixes, highest


def may_leave_out_last(tokens: Sequence[int], final_token: Optional[int]) -> bool:
    """Whether a pronunciation may also end an utterance without its last token: it ends with the
    mandatory boundary ``final_token`` and has tokens before it."""
    return final_token is not None and len(tokens) > 1 and tokens[-1] == final_token


@dataclass
class LexiconFst:
    fst: fst.VectorFst  # input: token id + 1 or a disambig label; output: word id
    disambig_labels: List[int]  # input label of #0, #1, ... (above every token label)
    class_labels: List[int]  # input label of each class slot (above the disambig labels), then
                             # of each slot's end-of-utterance variant, if any


def compile_lexicon(lexicon: Lexicon, word_ids: Dict[str, int], num_token_labels: int,
                    word_disambig_ids: Sequence[int],
                    optional_token: Optional[int] = None,
                    class_word_ids: Sequence[int] = (),
                    final_token: Optional[int] = None) -> LexiconFst:
    """L with disambiguation: one loop state (start and final); each pronunciation is a path
    leaving and re-entering it, the word on its first arc, the pronunciation cost on it too.
    Loops on the loop state pass G's disambiguation symbols through (``word_disambig_ids``: #0,
    G's backoff symbol, first; each gets a token-level label of its own after those of the
    pronunciations); ``optional_token`` (a word boundary such as ``|``) loops there with no
    output, so it may appear between any two words. Each class slot word (``class_word_ids``)
    is "pronounced" as one label of its own, after the disambiguation labels.

    ``final_token`` (a mandatory word boundary): a pronunciation that ends with it may also end
    the utterance without it (an acoustic model often leaves the last one out): an arc with no
    token (its disambiguation label, if any) leads from before it to a final state of its own.
    A class slot's entries carry final_token inside their run-time sub-graph, so each slot then
    also gets an end-of-utterance label, after the slots' own labels, that leads to that final
    state: where it enters, the slot's entries are spelled without their last final_token
    (``pywfst.class_slots``).
    """
    import pywrapfst as fst

    prons = [entry.tokens for entry in lexicon.entries]
    suffixes, highest = disambiguation_suffixes(prons)
    disambig_labels = [num_token_labels + 1 + k for k in range(highest + 1)]
    word_disambig_labels = [disambig_labels[0]]
    for _ in word_disambig_ids[1:]:
        disambig_labels.append(disambig_labels[-1] + 1)
        word_disambig_labels.append(disambig_labels[-1])
    one = fst.Weight.one("tropical")
    result = fst.VectorFst()
    loop = result.add_state()
    result.set_start(loop)
    result.set_final(loop)
    end = None  # the final state of utterances whose last word leaves final_token out

    def end_state():
        nonlocal end
        if end is None:
            end = result.add_state()
            result.set_final(end)
        return end

    for entry, suffix in zip(lexicon.entries, suffixes):
        labels = [token + 1 for token in entry.tokens]
        if suffix:
            labels.append(disambig_labels[suffix])
        word = word_ids[entry.word]
        ends_early = (len(entry.tokens) - 1 if may_leave_out_last(entry.tokens, final_token)
                      else None)
        source = loop
        for position, label in enumerate(labels):
            if position == ends_early:
                result.add_arc(source, fst.Arc(disambig_labels[suffix] if suffix else 0, 0, one,
                                               end_state()))
            last = position == len(labels) - 1
            target = loop if last else result.add_state()
            weight = fst.Weight("tropical", entry.cost) if position == 0 else one
            result.add_arc(source, fst.Arc(label, word if position == 0 else 0, weight, target))
            source = target
    if optional_token is not None:
        result.add_arc(loop, fst.Arc(optional_token + 1, 0, one, loop))
    targets = [loop] + ([end_state()] if final_token is not None and class_word_ids else [])
    class_labels = []
    for target in targets:
        for class_word_id in class_word_ids:
            class_labels.append(disambig_labels[-1] + 1 + len(class_labels))
            result.add_arc(loop, fst.Arc(class_labels[-1], class_word_id, one, target))
    # G's disambiguation symbols (its backoff arcs) pass at the end as between words: G may back
    # off to a state where the sentence end is cheaper.
    for state in (loop,) if end is None else (loop, end):
        for label, word_disambig_id in zip(word_disambig_labels, word_disambig_ids):
            result.add_arc(state, fst.Arc(label, word_disambig_id, one, state))
    return LexiconFst(result, disambig_labels, class_labels)
