"""atheris harnesses for the text inputs pywfst.graph reads: any bytes, written to a file and
parsed as the graph builder or the decoder would.

    python fuzz/python/parsers_fuzzer.py TARGET [libFuzzer options] [corpus dirs]

TARGET is one of tokens, lexicon, lexiconp, arpa, graph_json, transition_model (a Kaldi model
file, binary or text: pywfst.kaldi.TransitionModel.read). A bad input must raise
InputFileError (naming file and line), a plain ValueError or FileNotFoundError; any other
exception (TypeError, IndexError, KeyError, UnicodeDecodeError, JSONDecodeError, RecursionError,
...) is a finding, and so is an ARPA file that read_arpa_summary accepts but that, rewritten with
<unk> by write_arpa_with_unk (what build-graph does for words the lexicon lacks), it rejects.
"""

from __future__ import annotations

import gc
import math
import os
import sys
import traceback
import types
import tempfile
from typing import Set, Tuple
from pathlib import Path

import atheris
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fixtures  # noqa: E402

import pywfst  # noqa: E402
from pywfst.class_slots import ClassEntries, slot_names  # noqa: E402
from pywfst.errors import InputFileError  # noqa: E402
from pywfst.graph.grammar import read_arpa_summary, write_arpa_with_unk  # noqa: E402
from pywfst.graph.graph_dir import Graph  # noqa: E402
from pywfst.graph.lexicon import read_lexicon  # noqa: E402
from pywfst.graph.symbols import read_symbol_table, read_tokens, read_words  # noqa: E402
from pywfst.kaldi import TransitionModel  # noqa: E402

# libFuzzer ends the process without running Python's clean-up: fuzz/run.sh gives a directory
# (FUZZ_WORK) that it removes afterwards.
WORK = Path(tempfile.mkdtemp(prefix="pywfst_fuzz_", dir=os.environ.get("FUZZ_WORK")))
INPUT = WORK / "input.txt"


# Findings already reported and not fixed yet, as (exception type, file, function) where it was
# raised: tolerated so that a run goes on to find others. Remove an entry once it is fixed.
OPEN_FINDINGS: Set[Tuple[str, str, str]] = set()  # none open


def open_finding(error: BaseException) -> bool:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return (type(error).__name__, Path(frame.filename).name, frame.name) in OPEN_FINDINGS


def expected(error: BaseException) -> bool:
    """The exceptions that answer bad input (ValueError's subclasses other than InputFileError,
    such as UnicodeDecodeError, are not among them), and the open findings."""
    if isinstance(error, (InputFileError, FileNotFoundError)) or type(error) is ValueError:
        return True
    return open_finding(error)


def fuzz_tokens(data: bytes) -> None:
    INPUT.write_bytes(data)
    for read in (read_tokens, lambda p: read_tokens(p, require_blank=False, states_per_token=3),
                 read_words, lambda p: read_symbol_table(p, skip_disambig=True)):
        try:
            table = read(INPUT)
        except Exception as error:  # noqa: BLE001 - sorted by expected()
            if not expected(error):
                raise
            continue
        for symbol, sym_id in getattr(table, "table", table).items():  # a TokenSet or a SymbolTable
            assert isinstance(symbol, str) and isinstance(sym_id, int) and sym_id >= 0


def lexicon_target():
    # Chars, phones, and digits as tokens (a digit token must not make lexicon.txt a lexiconp).
    (WORK / "tokens.txt").write_text(
        "".join(f"{s} {i}\n" for i, s in enumerate(
            ["<blk>", "|", *"abcdefghijklmnopqrstuvwxyz'", "AA1", "B", "1", "0.5"])),
        encoding="utf-8")
    tokens = read_tokens(WORK / "tokens.txt")

    def fuzz_lexicon(data: bytes) -> None:
        INPUT.write_bytes(data)
        try:
            lexicon = read_lexicon(INPUT, tokens)
        except Exception as error:  # noqa: BLE001
            if not expected(error):
                raise
            return
        for entry in lexicon.entries:
            assert entry.tokens and math.isfinite(entry.cost) and entry.cost >= 0.0, entry
    return fuzz_lexicon


def fuzz_arpa(data: bytes) -> None:
    INPUT.write_bytes(data)
    try:
        summary = read_arpa_summary(INPUT)
    except Exception as error:  # noqa: BLE001
        if not expected(error):
            raise
        return
    # Some words out of the vocabulary, as build-graph finds them when the lexicon lacks them.
    oov = set(sorted(summary.vocabulary)[::2])
    if not oov:
        return
    rewritten = WORK / "rewritten.arpa"
    counts = write_arpa_with_unk(summary, oov, "<unk>", rewritten)
    try:
        again = read_arpa_summary(rewritten)  # must be valid: kaldilm compiles it next
    except InputFileError as error:
        if open_finding(error):
            return
        raise AssertionError("write_arpa_with_unk wrote an ARPA file that read_arpa_summary "
                             "rejects") from error
    assert again.counts == counts, (again.counts, counts)
    assert "<unk>" in again.vocabulary and not oov & again.vocabulary


def graph_json_target():
    """graph.json of a real graph directory (with a class slot) replaced by the input."""
    fixtures.write_inputs(WORK)
    _, slotted = fixtures.build_graphs(WORK)
    directory = WORK / "slot"
    emissions = np.full((12, 29), -5.0, dtype=np.float32)
    emissions[:, 0] = -0.01

    def fuzz_graph_json(data: bytes) -> None:
        (directory / "graph.json").write_bytes(data)
        try:
            graph = Graph.load(directory)
            _ = graph.frame_shift, graph.blank_id, graph.states_per_token, graph.optional_token_ids
            decoder = pywfst.Decoder(graph)
            columns = min(graph.emission_columns or emissions.shape[1], 1000)  # any int passes
            decoder.decode(np.resize(emissions, (12, columns))).word_times
            for name in slot_names(graph):
                decoder.set_class(name, ClassEntries(graph, name, ["cat", "sat on"]))
        except Exception as error:  # noqa: BLE001
            if not expected(error):
                raise
    return fuzz_graph_json


def fuzz_transition_model(data: bytes) -> None:
    INPUT.write_bytes(data)
    try:
        model = TransitionModel.read(INPUT)
    except Exception as error:  # noqa: BLE001
        if not expected(error):
            raise
        return
    pdf_of = model.pdf_of
    assert pdf_of.dtype == np.int32 and pdf_of[0] == -1 and (pdf_of[1:] >= 0).all(), pdf_of
    assert model.num_pdfs == (int(pdf_of.max()) + 1 if len(pdf_of) > 1 else 0)


def instrument_pywfst() -> None:
    """Coverage instrumentation of pywfst's functions only. atheris.instrument_imports cannot
    see through the import hook of an editable install, and atheris.instrument_all also takes
    numpy's and the standard library's (a minute to start, slower runs)."""
    for obj in gc.get_objects():
        if (isinstance(obj, types.FunctionType)
                and (getattr(obj, "__module__", None) or "").startswith("pywfst")):
            atheris.instrument_func(obj)


TARGETS = {
    "tokens": lambda: fuzz_tokens,
    "lexicon": lexicon_target,
    "lexiconp": lexicon_target,
    "arpa": lambda: fuzz_arpa,
    "graph_json": graph_json_target,
    "transition_model": lambda: fuzz_transition_model,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus]")
    target = TARGETS[sys.argv[1]]()
    instrument_pywfst()
    atheris.Setup([sys.argv[0]] + sys.argv[2:], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
