"""Jargon lexicons (lexicons/medical.txt, lexicons/legal.txt): reading and validating them.

A line is ``term<TAB>pronunciation<TAB>source``. The term is one or more words of lowercase a-z and
apostrophes separated by single spaces; the pronunciation holds ARPAbet phones (CMUdict's set,
stress digits 0/1/2 on vowels only) with `` | `` between the words of a phrase, so that a phrase
can become a word sequence; the source says where the pronunciation came from. Lines starting
with ``#`` and blank lines are skipped. The format is described in lexicons/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from ..errors import InputFileError
from .textfile import numbered_lines

ARPABET_VOWELS = frozenset(
    "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
ARPABET_CONSONANTS = frozenset(
    "B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split())
# cmudict: the CMU dictionary; espeak / g2p-en: a G2P tool for a word CMUdict lacks; mixed: the
# words of a phrase came from different sources; respelled: pronounced as a respelling given in
# the term list (an acronym spoken as a word, a letter read by its name).
SOURCES = frozenset({"cmudict", "espeak", "g2p-en", "mixed", "respelled"})
WORD_SEPARATOR = "|"
SHIPPED_LEXICONS = ("medical.txt", "legal.txt")

_WORD = re.compile(r"[a-z']*[a-z][a-z']*")
_PHONE = re.compile(r"([A-Z]+)([012]?)")


@dataclass(frozen=True)
class JargonEntry:
    words: Tuple[str, ...]  # the term's words, in order
    pronunciations: Tuple[Tuple[str, ...], ...]  # ARPAbet phones, one sequence per word
    source: str
    line: int  # where it stands in its file

    @property
    def term(self) -> str:
        return " ".join(self.words)

    @property
    def phones(self) -> Tuple[str, ...]:
        """The whole term's phones, word after word."""
        return tuple(phone for word in self.pronunciations for phone in word)


def is_arpabet_phone(phone: str) -> bool:
    """A CMUdict phone: a vowel with an optional stress digit, or a consonant without one."""
    match = _PHONE.fullmatch(phone)
    if match is None:
        return False
    base, stress = match.groups()
    return base in ARPABET_VOWELS or (base in ARPABET_CONSONANTS and not stress)


def _parse_line(text: str, path: Union[str, Path], line_no: int) -> JargonEntry:
    fields = text.split("\t")
    if len(fields) != 3:
        raise InputFileError(path, line_no, f"expected 3 tab-separated fields (term, "
                             f"pronunciation, source), found {len(fields)}")
    term, pron, source = fields
    words = term.split(" ")
    if not all(_WORD.fullmatch(word) for word in words):
        raise InputFileError(path, line_no, f"term {term!r} must be words of lowercase a-z and "
                             "' separated by single spaces")
    groups = pron.split(WORD_SEPARATOR)
    if len(groups) != len(words):
        raise InputFileError(path, line_no, f"term {term!r} has {len(words)} word(s) but the "
                             f"pronunciation has {len(groups)} (' {WORD_SEPARATOR} ' separates "
                             "words)")
    pronunciations = []
    for word, group in zip(words, groups):
        phones = tuple(group.split())
        if not phones:
            raise InputFileError(path, line_no, f"empty pronunciation for {word!r} in {term!r}")
        for phone in phones:
            if not is_arpabet_phone(phone):
                raise InputFileError(path, line_no,
                                     f"unknown phone {phone!r} in the pronunciation of {word!r}")
        pronunciations.append(phones)
    if source not in SOURCES:
        raise InputFileError(path, line_no, f"unknown source {source!r}; expected one of "
                             f"{', '.join(sorted(SOURCES))}")
    return JargonEntry(tuple(words), tuple(pronunciations), source, line_no)


def read_jargon_lexicon(path: Union[str, Path]) -> List[JargonEntry]:
    """Reads and validates a jargon lexicon; a malformed line, an unknown phone or source, an empty
    pronunciation or a repeated term raises :class:`InputFileError` naming the file and line."""
    entries: List[JargonEntry] = []
    first_line: Dict[str, int] = {}
    for line_no, line in numbered_lines(path, "jargon lexicon"):
        text = line.rstrip("\n")
        if not text.strip() or text.startswith("#"):
            continue
        entry = _parse_line(text, path, line_no)
        if entry.term in first_line:
            raise InputFileError(path, line_no, f"duplicate entry {entry.term!r} (first on line "
                                 f"{first_line[entry.term]})")
        first_line[entry.term] = line_no
        entries.append(entry)
    if not entries:
        raise InputFileError(path, None, "jargon lexicon has no entries")
    return entries


def validate_shipped_lexicons(directory: Optional[Union[str, Path]] = None) -> Dict[str, int]:
    """Validates medical.txt and legal.txt in ``directory`` and returns the entry count of each;
    raises InputFileError on the first problem. The default directory is the lexicons/ folder of
    the source checkout that pywfst is imported from (an editable install); the files are not in
    the wheel, so elsewhere pass the checkout's lexicons/ folder."""
    if directory is None:
        directory = Path(__file__).resolve().parents[2] / "lexicons"
        if not directory.is_dir():
            raise FileNotFoundError(f"{directory}: no lexicons/ folder next to this pywfst "
                                    "(not a source checkout): pass the folder")
    return {name: len(read_jargon_lexicon(Path(directory) / name)) for name in SHIPPED_LEXICONS}
