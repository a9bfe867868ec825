"""Build-time injection of extra vocabulary (jargon lexicons) and class slots into L and G.

Every word of the extra terms gets a pronunciation in L (spelled for char graphs, split for BPE
graphs, the lexicon's own or else the jargon file's ARPAbet for phone graphs). In G the terms
form a word class entered from the LM's null-history (unigram) state: a ``#0`` arc costing
-ln(share) leads to one path per term (-ln(1/N) on its first word, a multi-word term is a word
sequence), and each path leaves through a ``#1`` arc back to the unigram state. The unigram
state's other arcs and its final weight pay -ln(1 - share), so the class takes ``share`` of the
unigram mass and G stays normalised.

The two disambiguation symbols keep L∘G determinizable. Entering reads one more ``#0`` than any
LM path (a backoff arc into the unigram state, then the class arc). Leaving through ``#1`` tells
the phrase "x y" apart from the term "x" followed by the LM word "y": without it both paths read
the same input with different weights and end in different states, so determinization never
ends.

A class slot (``--class-slot NAME``) is such a class whose single term is the slot word ``$NAME``,
read without output; L spells it with a label of its own, and the decoder fills it at run time
(pywfst/class_slots.py). With the same entries and share, a slot and a static class give every
word sequence the same cost.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union

from ..errors import InputFileError
from .jargon import JargonEntry, read_jargon_lexicon
from .lexicon import Lexicon, Pronunciation, bpe_lexicon, spelling_lexicon
from .symbols import TokenSet

if TYPE_CHECKING:  # annotations only: OpenFst is imported where an FST is built, so that a
    import pywrapfst as fst  # decode-only install needs no pynini (DESIGN.md)

PathLike = Union[str, Path]
CLASS_EXIT_SYMBOL = "#1"  # word-level disambiguation symbol on the class's exit arc
_STRESS = re.compile(r"[012]$")


@dataclass
class ExtraVocabulary:
    terms: List[Tuple[str, ...]]  # distinct terms as word sequences, in file order
    entries: List[Tuple[Path, JargonEntry]]  # each term's first entry, with its file

    @classmethod
    def read(cls, paths: Sequence[PathLike]) -> "ExtraVocabulary":
        terms, entries, seen = [], [], set()
        for path in paths:
            for entry in read_jargon_lexicon(path):
                if entry.words not in seen:
                    seen.add(entry.words)
                    terms.append(entry.words)
                    entries.append((Path(path), entry))
        return cls(terms, entries)

    def words(self) -> List[str]:
        return sorted({word for term in self.terms for word in term})


def phone_token(phone: str, tokens: TokenSet) -> Optional[int]:
    """The token of an ARPAbet phone: as written, else without its stress digit."""
    for symbol in (phone, _STRESS.sub("", phone)):
        token = tokens.table.to_id.get(symbol)
        if token is not None and token != tokens.blank_id:
            return token
    return None


def _jargon_pronunciations(vocabulary: ExtraVocabulary, new_words: set,
                           tokens: TokenSet) -> List[Pronunciation]:
    """Pronunciations of ``new_words`` from the jargon files' ARPAbet (first one per word)."""
    found: Dict[str, Pronunciation] = {}
    for path, entry in vocabulary.entries:
        for word, phones in zip(entry.words, entry.pronunciations):
            if word not in new_words or word in found:
                continue
            ids = [phone_token(phone, tokens) for phone in phones]
            if None in ids:
                missing = phones[ids.index(None)]
                raise InputFileError(path, entry.line, f"phone {missing!r} of {word!r} is not a "
                                     f"token of {tokens.path}")
            found[word] = Pronunciation(word, tuple(ids))  # type: ignore[arg-type]
    return [found[word] for word in sorted(found)]


def extend_lexicon(lexicon: Lexicon, vocabulary: ExtraVocabulary, mode: str, tokens: TokenSet,
                   boundary_id: Optional[int], bpe_model: Optional[PathLike]) -> List[str]:
    """Adds the extra words the lexicon lacks (``mode``: lexicon, spell or bpe); returns them.
    A word that cannot be written with the tokens raises InputFileError naming its file."""
    new_words = set(vocabulary.words()) - set(lexicon.words())
    if mode == "lexicon":
        added = _jargon_pronunciations(vocabulary, new_words, tokens)
    else:
        if mode == "spell":
            extension, failed = spelling_lexicon(sorted(new_words), tokens, boundary_id)
        else:
            extension, failed = bpe_lexicon(sorted(new_words), tokens, bpe_model)
        if failed:
            path, entry = next((p, e) for p, e in vocabulary.entries if failed[0] in e.words)
            raise InputFileError(path, entry.line, f"word {failed[0]!r} cannot be written with "
                                 f"the tokens of {tokens.path}")
        added = extension.entries
    lexicon.entries.extend(added)
    return sorted(p.word for p in added)


def unigram_state(grammar: fst.VectorFst, backoff_id: int) -> int:
    """The null-history state of a kaldilm G: where the start state's backoff arc leads (a
    unigram LM or a word loop has only that one state to start from)."""
    start = grammar.start()
    for arc in grammar.arcs(start):
        if arc.ilabel == backoff_id:
            return arc.nextstate
    return start


@dataclass
class WordClass:
    """A class of terms entered from the unigram state, taking ``share`` of its mass. A class
    slot is a class with one term, its slot word, read but not output (``output=False``): the
    decoder replaces it by the entries set at run time."""
    terms: Sequence[Tuple[str, ...]]
    share: float
    output: bool = True


def add_word_classes(grammar_path: PathLike, classes: Sequence[WordClass],
                     word_ids: Dict[str, int], backoff_id: int, exit_id: int) -> List[Dict[str, float]]:
    """Rewrites G (file) with the classes, each taking its share of the unigram mass."""
    import pywrapfst as fst

    total = sum(word_class.share for word_class in classes)
    if not all(0.0 < c.share < 1.0 for c in classes) or not total < 1.0:
        raise ValueError("word classes: each share must be in (0, 1) and together below 1, got "
                         f"{[c.share for c in classes]}")
    grammar = fst.Fst.read(str(grammar_path))
    weight_type = grammar.weight_type()
    unigram = unigram_state(grammar, backoff_id)
    keep = -math.log1p(-total)  # what the LM's own unigram arcs now pay
    arcs = grammar.mutable_arcs(unigram)
    for arc in arcs:
        arc.weight = fst.Weight(weight_type, float(arc.weight) + keep)
        arcs.set_value(arc)
    final = grammar.final(unigram)
    if final != fst.Weight.zero(weight_type):
        grammar.set_final(unigram, fst.Weight(weight_type, float(final) + keep))
    one = fst.Weight.one(weight_type)
    summaries = []
    for word_class in classes:
        entry, leave = grammar.add_state(), grammar.add_state()
        grammar.add_arc(unigram, fst.Arc(backoff_id, 0, fst.Weight(weight_type,
                                                                   -math.log(word_class.share)), entry))
        grammar.add_arc(leave, fst.Arc(exit_id, 0, one, unigram))
        term_cost = fst.Weight(weight_type, math.log(len(word_class.terms)))
        for term in word_class.terms:
            state = entry
            for position, word in enumerate(term):
                target = leave if position == len(term) - 1 else grammar.add_state()
                label = word_ids[word]
                grammar.add_arc(state, fst.Arc(label, label if word_class.output else 0,
                                               term_cost if position == 0 else one, target))
                state = target
        summaries.append({"share": word_class.share,
                          "term_cost": -math.log(word_class.share) + math.log(len(word_class.terms)),
                          "unigram_cost_added": keep})
    grammar.arcsort("ilabel")
    grammar.write(str(grammar_path))
    return summaries
