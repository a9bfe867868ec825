"""The grammar G: an ARPA n-gram LM compiled with kaldilm (Kaldi's arpa2fst), or a word loop.

The ARPA file is validated here first, so a malformed line is reported with its line number
instead of failing deep inside the compiler, and words missing from the lexicon are counted
before anything is dropped.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import multiprocessing
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from concurrent.futures.process import BrokenProcessPool
from typing import Dict, IO, Iterator, List, Optional, Set, Tuple, Union

import pywrapfst as fst

from ..errors import InputFileError

SENTENCE_MARKERS = ("<s>", "</s>")
OOV_MODES = ("drop", "unk", "spell")


def open_text(path: Union[str, Path]) -> IO[str]:
    """Opens a plain or gzip-compressed text file."""
    try:
        with open(path, "rb") as probe:
            is_gzip = probe.read(2) == b"\x1f\x8b"
        return gzip.open(path, "rt", encoding="utf-8") if is_gzip else open(path, encoding="utf-8")
    except OSError as error:
        raise OSError(f"{path}: cannot read: {error.strerror or error}") from error


@dataclass
class ArpaSummary:
    path: str
    counts: Dict[int, int]  # order -> number of n-grams
    vocabulary: Set[str] = field(default_factory=set)  # unigram words, sentence markers excluded

    @property
    def order(self) -> int:
        return max(self.counts)


def _arpa_lines(path: Union[str, Path]) -> Iterator[Tuple[int, str]]:
    with open_text(path) as handle:
        try:
            for line_no, line in enumerate(handle, start=1):
                yield line_no, line.strip()
        except (UnicodeDecodeError, EOFError, OSError) as error:
            raise InputFileError(path, None, f"unreadable ARPA file: {error}") from None


def _parse_float(text: str, path, line_no: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, line_no, f"{what} {text!r} is not a number") from None
    if math.isnan(value) or value == math.inf:
        raise InputFileError(path, line_no, f"{what} {text!r} is not a valid log10 value")
    return value


def read_arpa_summary(path: Union[str, Path]) -> ArpaSummary:
    """Validates an ARPA file (header, section order, n-gram line shapes, counts) and returns its
    n-gram counts and unigram vocabulary. Errors name the file and line."""
    counts: Dict[int, int] = {}
    seen: Dict[int, int] = {}
    vocabulary: Set[str] = set()
    state = "preamble"  # preamble -> data -> ngrams(order) -> end
    order = 0
    for line_no, line in _arpa_lines(path):
        if not line:
            continue
        if state == "preamble":
            if line == "\\data\\":
                state = "data"
            continue
        if state == "end":
            raise InputFileError(path, line_no, "text after \\end\\")
        if line.startswith("\\"):
            if line == "\\end\\":
                state = "end"
                continue
            expected = f"\\{order + 1}-grams:"
            if line != expected:
                raise InputFileError(path, line_no, f"expected section {expected!r}, got {line!r}")
            order += 1
            if order not in counts:
                raise InputFileError(path, line_no, f"{line} has no 'ngram {order}=' count in \\data\\")
            seen[order] = 0
            state = "ngrams"
            continue
        if state == "data":
            if not line.startswith("ngram ") or "=" not in line:
                raise InputFileError(path, line_no, f"expected 'ngram N=count', got {line!r}")
            n_text, count_text = line[len("ngram "):].split("=", 1)
            try:
                n, count = int(n_text), int(count_text)
            except ValueError:
                raise InputFileError(path, line_no, f"malformed count line {line!r}") from None
            if n != len(counts) + 1 or count < 0:
                raise InputFileError(path, line_no, f"unexpected count line {line!r}")
            counts[n] = count
            continue
        fields = line.split()
        if len(fields) not in (order + 1, order + 2):
            raise InputFileError(
                path, line_no, f"a {order}-gram line needs a log10 prob, {order} word(s) and an "
                f"optional backoff; got {len(fields)} fields")
        _parse_float(fields[0], path, line_no, "log10 probability")
        if len(fields) == order + 2:
            _parse_float(fields[-1], path, line_no, "backoff weight")
        if order == 1 and fields[1] not in SENTENCE_MARKERS:
            vocabulary.add(fields[1])
        seen[order] += 1
    if state == "preamble":
        raise InputFileError(path, None, "no \\data\\ section: not an ARPA file")
    if state != "end":
        raise InputFileError(path, None, "truncated: no \\end\\ line")
    for n, count in counts.items():
        if seen.get(n) != count:
            raise InputFileError(path, None, f"header says {count} {n}-grams, found {seen.get(n, 0)}")
    return ArpaSummary(str(path), counts, vocabulary)


def write_arpa_with_unk(source: ArpaSummary, oov_words: Set[str], unk: str,
                        out_path: Union[str, Path]) -> Dict[int, int]:
    """Rewrites an ARPA so that the unigram probability mass of ``oov_words`` goes to ``unk``
    (summed) and every higher-order n-gram holding one of them is removed. Returns new counts."""
    unk_log10: Optional[float] = None
    unk_backoff = ""
    kept: Dict[int, List[str]] = {n: [] for n in source.counts}
    order = 0
    in_ngrams = False
    for _, line in _arpa_lines(source.path):
        if line.startswith("\\"):
            in_ngrams = line.endswith("-grams:")
            order += in_ngrams
            continue
        if not in_ngrams or not line:
            continue
        fields = line.split()
        words = fields[1:1 + order]
        if order == 1 and (words[0] in oov_words or words[0] == unk):
            prob = float(fields[0])
            unk_log10 = prob if unk_log10 is None else _log10_add(unk_log10, prob)
            if words[0] == unk and len(fields) == 3:
                unk_backoff = f" {fields[2]}"
            continue
        if order > 1 and any(word in oov_words for word in words):
            continue
        kept[order].append(line)
    if unk_log10 is not None:
        kept[1].append(f"{unk_log10:.6f} {unk}{unk_backoff}")
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("\\data\\\n")
        for n, lines in kept.items():
            out.write(f"ngram {n}={len(lines)}\n")
        for n, lines in kept.items():
            out.write(f"\n\\{n}-grams:\n")
            out.write("\n".join(lines))
            out.write("\n")
        out.write("\n\\end\\\n")
    return {n: len(lines) for n, lines in kept.items()}


def _log10_add(a: float, b: float) -> float:
    high, low = max(a, b), min(a, b)
    return high + math.log10(1.0 + 10.0 ** (low - high))


def compile_arpa(arpa_path: Union[str, Path], words_txt: Union[str, Path],
                 out_fst: Union[str, Path], log_path: Union[str, Path]) -> None:
    """Writes G from an ARPA with kaldilm: backoff arcs read #0, <s>/</s> become epsilon/final
    weights, n-grams with words outside ``words_txt`` are skipped (they were counted before).
    Meant for a child process: kaldilm logs every line it reads to file descriptor 2, which goes
    to ``log_path``, and it aborts the process on some errors."""
    import kaldilm

    with open(log_path, "w") as log:
        os.dup2(log.fileno(), 2)
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(arpa_path)
        with open(arpa_path, "rb") as probe:
            if probe.read(2) == b"\x1f\x8b":  # kaldilm reads plain text only
                plain = Path(scratch) / "lm.arpa"
                with gzip.open(arpa_path, "rb") as packed, open(plain, "wb") as unpacked:
                    while chunk := packed.read(1 << 20):
                        unpacked.write(chunk)
        kaldilm.arpa2fst(str(plain), str(out_fst), disambig_symbol="#0",
                         read_symbol_table=str(words_txt), max_arpa_warnings=0)


class GrammarCompilation:
    """Runs :func:`compile_arpa` in a forked child process: kaldilm holds the GIL (so the caller
    builds L meanwhile) and may abort on bad input (so it cannot take the caller down).
    ``wait()`` returns once G.fst is written, or raises InputFileError with kaldilm's log."""

    def __init__(self, arpa_path: Optional[Union[str, Path]], words_txt: Union[str, Path],
                 out_fst: Union[str, Path]):
        self._arpa_path = arpa_path
        self._log_path = Path(out_fst).with_suffix(".log")
        self._args = (arpa_path, words_txt, out_fst, self._log_path)
        self._pool: Optional[concurrent.futures.ProcessPoolExecutor] = None
        self._future = None

    def __enter__(self) -> "GrammarCompilation":
        if self._arpa_path is not None:
            context = multiprocessing.get_context("fork")
            self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context)
            self._future = self._pool.submit(compile_arpa, *self._args)
        return self

    def wait(self) -> None:
        if self._future is None:
            return
        try:
            self._future.result()
        except Exception as error:  # kaldilm's exception, or the child died
            log = self._log_path.read_text(errors="replace")[-2000:] if self._log_path.exists() else ""
            reason = "crashed" if isinstance(error, BrokenProcessPool) else f"failed ({error})"
            raise InputFileError(self._arpa_path, None,
                                 f"kaldilm {reason} compiling it:\n{log}") from None
        self._log_path.unlink()

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._log_path.unlink(missing_ok=True)


def word_loop(word_ids: List[int]) -> fst.VectorFst:
    """G without an LM: any sequence of words, each with the uniform unigram cost ln(#words)."""
    result = fst.VectorFst()
    state = result.add_state()
    result.set_start(state)
    result.set_final(state)
    cost = fst.Weight("tropical", math.log(max(len(word_ids), 1)))
    for word in word_ids:
        result.add_arc(state, fst.Arc(word, word, cost, state))
    result.arcsort("ilabel")
    return result
