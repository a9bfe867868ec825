"""Run-time class slots: fill a graph's class slot with new entries without rebuilding the graph.

    graph = pywfst.build_graph(..., class_slots=["TERM"])   # pywfst build-graph --class-slot TERM
    decoder = pywfst.Decoder(graph)
    decoder.set_class("TERM", ["metoprolol", "atrial fibrillation"])  # compiled in milliseconds
    decoder.decode(emissions).words                                   # may now hold those words

A slot takes its share of the LM's unigram mass (``class_weight`` at build time); each entry gets
an equal part of that share, or the part a mapping ``entry -> weight`` gives it. With the same
entries and share, decoding finds the same best path as a graph built with the entries compiled
in (``--extra-lexicon``). Entries are spelled the way the graph spells words: char or BPE tokens
for spelling graphs; for phone graphs the graph's own pronunciation of a word, else the one given
in ``pronunciations`` (word -> phone strings such as "M EH1 T OW0 ..."). A graph built from a
lexicon file that spells every word with its chars spells a new word itself, as a spelling graph.
"""

from __future__ import annotations

import collections.abc
import functools
import math
import reprlib
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _core
from .boost import finite_number
from .errors import InputFileError
from .graph import Graph
from .graph.jargon import read_jargon_lexicon
from .graph.injection import phone_token
from .graph.lexicon import bpe_lexicon, may_leave_out_last, spell_char, spell_word
from .graph.symbols import TokenSet
from .graph.textfile import numbered_lines

EntrySpec = Union[Mapping[str, float], Iterable[str]]
Pronunciations = Mapping[str, Union[str, Sequence[str]]]
_compilers: "weakref.WeakKeyDictionary[Graph, object]" = weakref.WeakKeyDictionary()


def slot_names(graph: Graph) -> List[str]:
    slots = graph.info.get("class_slots") or {}
    return [slot["name"] for slot in slots.get("slots", [])]


def slot_index(graph: Graph, name: str) -> int:
    names = slot_names(graph)
    if name not in names:
        available = ", ".join(names) if names else "none (build it with --class-slot NAME)"
        raise ValueError(f"class slot {name!r} is not in the graph {graph.path}; its slots: "
                         f"{available}")
    return names.index(name)


def has_end_variants(graph: Graph) -> bool:
    """Whether each slot also has an end-of-utterance variant (graph index: slot index + number
    of slots), entered where the utterance may end: a graph with a mandatory word boundary,
    whose entries spell it after each word, but the utterance's last word may leave it out."""
    return bool((graph.info.get("class_slots") or {}).get("end_variants"))


def _compiler(graph: Graph):
    """The graph's ClassCompiler (its bare topology is read once per Graph object)."""
    compiler = _compilers.get(graph)
    if compiler is None:
        slots = graph.info["class_slots"]
        topology = _core.CsrGraph.load(str(graph.path / slots["topology"]))
        optional = sorted(graph.optional_token_ids)
        compiler = _core.ClassCompiler(topology, slots["word_states"], optional[0] if optional else -1)
        _compilers[graph] = compiler
    return compiler


def _weights(entries: EntrySpec) -> Tuple[List[str], List[float]]:
    """The entries' texts and weights."""
    if isinstance(entries, str) or not isinstance(entries, collections.abc.Iterable):
        got = "a string" if isinstance(entries, str) else reprlib.repr(entries)
        raise TypeError(f"entries: give a list of entries (or a mapping entry -> weight), not {got}")
    texts = list(entries)
    if isinstance(entries, Mapping):
        weights = [finite_number(weight) for weight in entries.values()]
    else:
        weights = [1.0] * len(texts)
    if not texts:
        raise ValueError("entries: none given (to empty a slot, use decoder.set_class(name, None))")
    for index, (text, weight) in enumerate(zip(texts, weights)):
        if not isinstance(text, str):
            raise TypeError(f"entries: entry {index} is not a string: {reprlib.repr(text)}")
        if weight is None or weight <= 0:  # only a mapping's weights can be wrong
            raise ValueError(f"entries: {text!r} has weight {reprlib.repr(entries[text])}; "
                             "weights must be finite numbers > 0")
        if not text or text.isspace():
            raise ValueError("entries: an entry is empty")
    return texts, weights


@dataclass
class _Spellings:
    """Token sequences of words in flat form: word w has the sequences
    ``offsets[w] .. offsets[w+1]``; sequence p is ``tokens[token_offsets[p]:token_offsets[p+1]]``.
    Flat lists of numbers are what the native compiler takes, and far fewer Python objects to
    make, convert and have the garbage collector scan than a tuple per word."""
    offsets: List[int] = field(default_factory=lambda: [0])
    token_offsets: List[int] = field(default_factory=lambda: [0])
    tokens: List[int] = field(default_factory=list)

    def add(self, sequences: Iterable[Sequence[int]]) -> None:
        for sequence in sequences:
            self.tokens.extend(sequence)
            self.token_offsets.append(len(self.tokens))
        self.offsets.append(len(self.token_offsets) - 1)

    def with_endings_without(self, token: int) -> "_Spellings":
        """These words (0 .. W-1), then each again as W + w with its sequences that end with
        ``token`` (and have more) cut before it: how a last word may end an utterance."""
        result = _Spellings(list(self.offsets), list(self.token_offsets), list(self.tokens))
        cuts = self.token_offsets
        for word in range(len(self.offsets) - 1):
            sequences = []
            for p in range(self.offsets[word], self.offsets[word + 1]):
                sequence = self.tokens[cuts[p]:cuts[p + 1]]
                sequences.append(sequence[:-1] if may_leave_out_last(sequence, token)
                                 else sequence)
            result.add(sequences)
        return result

    def of(self, word: int) -> FrozenSet[Tuple[int, ...]]:
        cuts = self.token_offsets
        return frozenset(tuple(self.tokens[cuts[p]:cuts[p + 1]])
                         for p in range(self.offsets[word], self.offsets[word + 1]))


class _Speller:
    """Token sequences of words, the way the graph spells its own."""

    def __init__(self, graph: Graph, pronunciations: Optional[Pronunciations]):
        self.graph = graph
        self.mode = graph.info.get("lexicon_mode", "lexicon")
        self.tokens = TokenSet(graph.tokens, str(graph.path / "tokens.txt"), graph.blank_id)
        boundary = graph.info.get("word_boundary")
        self.suffix = (boundary["token_id"],) if boundary and not boundary["optional"] else ()
        self.given = dict(pronunciations or {})
        # ARPAbet -> token, once per distinct phone (a few dozen), not once per phone of a word
        self._phone_token = functools.lru_cache(maxsize=None)(
            functools.partial(phone_token, tokens=self.tokens))

    def __call__(self, words: Sequence[str]) -> _Spellings:
        spellings = _Spellings()
        if self.mode == "spell":
            token_of = {char: spell_char(char, self.tokens) for char in set("".join(words))}
            if None in token_of.values():
                char = next(c for c, t in token_of.items() if t is None)
                word = next(w for w in words if char in w)
                raise ValueError(f"entries: {word!r} cannot be spelled with the tokens of "
                                 f"{self.graph.path}")
            tokens, offsets, token_offsets = spellings.tokens, spellings.offsets, spellings.token_offsets
            for word in words:  # one sequence per word, written in place
                tokens.extend(map(token_of.__getitem__, word))
                tokens.extend(self.suffix)
                token_offsets.append(len(tokens))
                offsets.append(len(token_offsets) - 1)
            return spellings
        if self.mode == "bpe":
            model = self.graph.info["inputs"]["bpe_model"]["path"]
            lexicon, failed = bpe_lexicon(words, self.tokens, model)
            if failed:
                raise ValueError(f"entries: {failed[0]!r} cannot be split into the graph's tokens")
            for entry in lexicon.entries:
                spellings.add([entry.tokens])
            return spellings
        for word in words:
            given = self.given.get(word)
            if isinstance(given, str):  # the common case, one given pronunciation: no sets
                spellings.add([self._phone_ids(word, given)])
            else:
                spellings.add(sorted(self._pronounce(word)))
        return spellings

    def _phone_ids(self, word: str, phones: str) -> Tuple[int, ...]:
        ids = tuple(map(self._phone_token, phones.split()))
        if not ids or None in ids:
            raise ValueError(f"pronunciations: {word!r}: {phones!r} has a phone that is not a "
                             f"token of {self.graph.path}")
        return ids

    def _pronounce(self, word: str) -> FrozenSet[Tuple[int, ...]]:
        if word in self.given:
            given = self.given[word]
            alternatives = [given] if isinstance(given, str) else list(given)
            return frozenset(self._phone_ids(word, phones) for phones in alternatives)
        known = self.graph.pronunciations or {}
        word_id = self.graph.words.to_id.get(word)
        if word_id in known:
            return known[word_id]
        spelled = spell_word(word, self.tokens)
        if spelled is not None and _spells_its_words(self.graph, self.tokens):
            return frozenset([spelled + self.suffix])
        raise ValueError(f"entries: {word!r} is not a word of {self.graph.path}; give its "
                         "pronunciation in pronunciations=")


# Per graph: whether its lexicon file is a spelling lexicon (computed once; 34k words: ~50 ms).
_SPELLING_GRAPHS: "weakref.WeakKeyDictionary[Graph, bool]" = weakref.WeakKeyDictionary()


def _spells_its_words(graph: Graph, tokens: TokenSet) -> bool:
    """Every word of pronunciations.txt is pronounced as its spelling, one token per char."""
    if graph not in _SPELLING_GRAPHS:
        known = graph.pronunciations or {}
        _SPELLING_GRAPHS[graph] = bool(known) and all(
            pronunciations == {spell_word(graph.word(word_id), tokens)}
            for word_id, pronunciations in known.items())
    return _SPELLING_GRAPHS[graph]


class ClassEntries:
    """The entries of one class slot, compiled for one graph (a :class:`Graph` or the path of a
    graph directory); reusable by its decoders (and threads). Malformed entries raise
    ValueError (TypeError: not a string) naming the entry."""

    def __init__(self, graph: Union[Graph, str, Path], name: str, entries: EntrySpec,
                 pronunciations: Optional[Pronunciations] = None):
        graph = graph if isinstance(graph, Graph) else Graph.load(graph)
        self.graph_path = graph.path
        self.name = name
        self.index = slot_index(graph, name)
        self.entries, weights = _weights(entries)
        self.words: List[str] = sorted({word for text in self.entries for word in text.split()})
        index = {word: i for i, word in enumerate(self.words)}
        # A word the graph knows keeps its id (so n-best lists and boosting see one word);
        # a new one gets a label of this slot's own.
        self.labels = [_graph_word_id(graph, word) or label_of(self.index, i)
                       for i, word in enumerate(self.words)]
        self._spellings = _Speller(graph, pronunciations)(self.words)
        self._word_of_label: Optional[Dict[int, int]] = None
        entry_offsets, entry_words = [0], []
        for text in self.entries:
            entry_words.extend(map(index.__getitem__, text.split()))
            entry_offsets.append(len(entry_words))
        log_total = math.log(sum(weights))
        costs = [log_total - math.log(weight) for weight in weights]
        spellings = self._spellings
        compiler = _compiler(graph)
        self.native = compiler.compile(self.labels, spellings.offsets, spellings.token_offsets,
                                       spellings.tokens, entry_offsets, entry_words, costs)
        # The end-of-utterance variant: each entry's last word may leave out the boundary.
        self.native_at_end = None
        if has_end_variants(graph):
            ending = spellings.with_endings_without(graph.info["word_boundary"]["token_id"])
            last_words = list(entry_words)
            for end in entry_offsets[1:]:
                last_words[end - 1] += len(self.words)
            self.native_at_end = compiler.compile(self.labels + self.labels, ending.offsets,
                                                  ending.token_offsets, ending.tokens,
                                                  entry_offsets, last_words, costs)

    def word(self, label: int) -> str:
        """The word of one of this slot's own labels."""
        return self.words[label % _core.CLASS_WORD_STRIDE]

    def pronunciations_of(self, label: int) -> FrozenSet[Tuple[int, ...]]:
        """Token sequences of the class word output as ``label`` (empty if it has none here)."""
        if self._word_of_label is None:  # built on the first word-time request
            self._word_of_label = {label: word for word, label in enumerate(self.labels)}
        word = self._word_of_label.get(label)
        return frozenset() if word is None else self._spellings.of(word)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"ClassEntries({self.name!r}, {len(self)} entries for {self.graph_path})"


def read_class_file(path: Union[str, Path]) -> Tuple[EntrySpec, Dict[str, str]]:
    """Entries and pronunciations from a file: a jargon lexicon (lexicons/README.md: its terms,
    and its ARPAbet for phone graphs), or one entry per line with an optional TAB and relative
    weight. '#' starts a comment line. Errors name the file and line."""
    content = [(n, line.rstrip("\n")) for n, line in numbered_lines(path, "class entries file")
               if line.strip() and not line.startswith("#")]
    if content and all(line.count("\t") == 2 for _, line in content):
        jargon = read_jargon_lexicon(path)
        pronunciations: Dict[str, str] = {}
        for entry in jargon:
            for word, phones in zip(entry.words, entry.pronunciations):
                pronunciations.setdefault(word, " ".join(phones))
        return [" ".join(entry.words) for entry in jargon], pronunciations
    weights: Dict[str, float] = {}
    for line_no, line in content:
        fields = line.split("\t")
        try:
            weight = float(fields[1]) if len(fields) == 2 else 1.0
        except ValueError:
            weight = float("nan")
        if len(fields) > 2 or not (weight > 0 and math.isfinite(weight)):
            raise InputFileError(path, line_no, "expected 'entry' or 'entry<TAB>weight' with a "
                                 "weight > 0 (or a jargon lexicon: term<TAB>ARPAbet<TAB>source)")
        weights[" ".join(fields[0].split())] = weight
    if not weights:
        raise InputFileError(path, None, "no entries")
    return weights, {}


def _graph_word_id(graph: Graph, word: str) -> Optional[int]:
    """The graph's id of an ordinary word (not epsilon, a disambiguation symbol or a slot)."""
    word_id = graph.words.to_id.get(word)
    return word_id if word_id and not word.startswith(("#", "$")) else None


def label_of(class_index: int, word: int) -> int:
    """Output label of a class's local word ``word`` (csrc/fst/nonterminal.h)."""
    return (class_index + 1) * _core.CLASS_WORD_STRIDE + word


def slot_of_label(label: int) -> Optional[int]:
    """The slot index of a new word's output label; None for a word of the graph."""
    return None if label < _core.CLASS_WORD_STRIDE else label // _core.CLASS_WORD_STRIDE - 1
