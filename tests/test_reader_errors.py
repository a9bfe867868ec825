"""Jargon lexicons and class entries files that are not UTF-8: the error names file, line and
byte (through graph/textfile.py, as the other text inputs), never a bare UnicodeDecodeError."""

import re

import numpy as np
import pytest
from click.testing import CliRunner

import pywfst
from pywfst.class_slots import read_class_file
from pywfst.cli import cli
from pywfst.graph.jargon import read_jargon_lexicon

JARGON = ("# medical terms\n"
          "statin\tS T AE1 T IH0 N\tcmudict\n"
          "atrial fibrillation\tEY1 T R IY0 AH0 L | F IH2 B R IH0 L EY1 SH AH0 N\tcmudict\n")
LATIN1_LINE = "caf\u00e9\tK AE0 F EY1\trespelled\n".encode("latin-1")  # 0xe9 at column 4
NOT_UTF8 = r"not UTF-8 text: byte 0xe9 at column 4"


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_jargon_lexicon_not_utf8_names_the_line(tmp_path):
    path = write(tmp_path / "jargon.txt", JARGON.encode() + LATIN1_LINE)
    with pytest.raises(pywfst.InputFileError, match=re.escape(f"{path}:4: ") + NOT_UTF8 +
                       r" \(is this a jargon lexicon\?\)"):
        read_jargon_lexicon(path)


def test_jargon_lexicon_reads_crlf_lines_and_line_numbers_stay(tmp_path):
    path = write(tmp_path / "jargon.txt", JARGON.replace("\n", "\r\n").encode())
    entries = read_jargon_lexicon(path)
    assert [(e.term, e.line) for e in entries] == [("statin", 2), ("atrial fibrillation", 3)]
    with pytest.raises(OSError, match="cannot read jargon lexicon"):
        read_jargon_lexicon(tmp_path / "missing.txt")


@pytest.mark.parametrize("content, line", [
    (b"metoprolol\t2\n" + "caf\u00e9\n".encode("latin-1"), 2),  # entries, one per line
    (JARGON.encode() + LATIN1_LINE, 4),  # a jargon lexicon
], ids=["entries", "jargon"])
def test_class_file_not_utf8_names_the_line(tmp_path, content, line):
    path = write(tmp_path / "terms.txt", content)
    with pytest.raises(pywfst.InputFileError, match=re.escape(f"{path}:{line}: ") + NOT_UTF8):
        read_class_file(path)


def test_class_file_still_reads_both_formats(tmp_path):
    entries = write(tmp_path / "entries.txt", b"# drugs\r\nmetoprolol\t2\r\n\r\nstatin\r\n")
    assert read_class_file(entries) == ({"metoprolol": 2.0, "statin": 1.0}, {})
    jargon = write(tmp_path / "jargon.txt", JARGON.encode())
    terms, pronunciations = read_class_file(jargon)
    assert terms == ["statin", "atrial fibrillation"]
    assert pronunciations["atrial"] == "EY1 T R IY0 AH0 L"
    with pytest.raises(OSError, match=re.escape(f"{tmp_path / 'missing.txt'}: cannot read class "
                                                 "entries file")):
        read_class_file(tmp_path / "missing.txt")


def test_build_and_decode_report_the_line(char_setup, tmp_path):
    jargon = write(tmp_path / "jargon.txt", JARGON.encode() + LATIN1_LINE)
    with pytest.raises(pywfst.InputFileError, match=re.escape(f"{jargon}:4: ") + NOT_UTF8):
        pywfst.build_graph(char_setup["tokens"], tmp_path / "g", spell=True, lm=char_setup["lm"],
                           extra_lexicons=[jargon], progress=False)
    assert not (tmp_path / "g").exists()
    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "slot", spell=True,
                               lm=char_setup["lm"], class_slots=["TERM"], progress=False)
    entries = write(tmp_path / "terms.txt", b"metoprolol\n" + "caf\u00e9\n".encode("latin-1"))
    np.save(tmp_path / "utt.npy", np.zeros((4, len(graph.tokens)), np.float32))
    run = CliRunner().invoke(cli, ["decode", "--graph", str(graph.path), "--class",
                                   f"TERM={entries}", str(tmp_path / "utt.npy")])
    assert run.exit_code == 1
    assert re.search(re.escape(f"Error: {entries}:2: ") + NOT_UTF8, run.output), run.output
