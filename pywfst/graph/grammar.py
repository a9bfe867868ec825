"""The grammar G: an ARPA n-gram LM compiled with kaldilm (Kaldi's arpa2fst), or a word loop.

The ARPA file is validated here first, so a malformed line is reported with its line number
instead of failing deep inside the compiler, and words missing from the lexicon are counted
before anything is dropped.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Set, Tuple, Union

from ..errors import InputFileError
from .textfile import is_gzip, numbered_lines, open_text

if TYPE_CHECKING:  # annotations only: OpenFst is imported where an FST is built, so that a
    import pywrapfst as fst  # decode-only install needs no pynini (DESIGN.md)

SENTENCE_MARKERS = ("<s>", "</s>")
OOV_MODES = ("drop", "unk", "spell")
# kaldilm reads log10 values as 32-bit floats and aborts on any it cannot hold (also on -inf:
# SRILM writes -99 for a probability of 0).
FLOAT32_MAX = 3.4028234663852886e38


@dataclass
class ArpaSummary:
    path: str
    counts: Dict[int, int]  # order -> number of n-grams
    vocabulary: Set[str] = field(default_factory=set)  # unigram words, sentence markers excluded

    @property
    def order(self) -> int:
        return max(self.counts)


def _arpa_lines(path: Union[str, Path]) -> Iterator[Tuple[int, str]]:
    for line_no, line in numbered_lines(path, "ARPA file"):
        yield line_no, line.strip()


def _parse_float(text: str, path, line_no: int, what: str) -> float:
    try:
        if "_" in text:  # Python reads "-1_0" as -10, kaldilm as -1
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise InputFileError(path, line_no, f"{what} {text!r} is not a number") from None
    if not -FLOAT32_MAX <= value <= FLOAT32_MAX:  # also nan
        hint = " (write -99 for a probability of 0)" if value == -math.inf else ""
        raise InputFileError(path, line_no, f"{what} {text!r} is not a valid log10 value{hint}")
    return value


def _raise_number_error(prob: str, backoff: Optional[str], path, line_no: int) -> None:
    """Says which number of an n-gram line the fast check in read_arpa_summary rejected."""
    if _parse_float(prob, path, line_no, "log10 probability") > 0.0:
        raise InputFileError(path, line_no, f"log10 probability {prob} is positive "
                             "(a probability above 1)")
    if backoff is not None:
        _parse_float(backoff, path, line_no, "backoff weight")


def read_arpa_summary(path: Union[str, Path]) -> ArpaSummary:
    """Validates an ARPA file (header, section order, n-gram line shapes, counts, probabilities,
    words of higher-order n-grams listed as 1-grams, no n-gram twice) and returns its n-gram
    counts and unigram vocabulary. Errors name the file and line."""
    counts: Dict[int, int] = {}
    seen: Dict[int, int] = {}
    unigrams: Set[str] = set()
    ngrams: Set[str] = set()  # n-grams of order > 1, words joined by spaces
    state = "preamble"  # preamble -> data -> ngrams(order) -> end
    order = data_line = highest = 0
    for line_no, line in numbered_lines(path, "ARPA file"):
        fields = line.split()
        if not fields:
            continue
        if state == "ngrams" and not fields[0].startswith("\\"):  # most lines: keep it lean
            num_words = len(fields) - 1
            if num_words != order and num_words != order + 1:
                raise InputFileError(
                    path, line_no, f"a {order}-gram line needs a log10 prob, {order} word(s) and "
                    f"an optional backoff; got {len(fields)} fields")
            if num_words > order and order == highest:  # kaldilm refuses it, and it means nothing
                raise InputFileError(path, line_no, f"a backoff weight on a {order}-gram, the "
                                     "highest order (nothing backs off from it)")
            try:  # -FLOAT32_MAX <= prob <= 0, |backoff| <= FLOAT32_MAX (so neither nan nor inf)
                valid = "_" not in line and -FLOAT32_MAX <= float(fields[0]) <= 0.0 and (
                    num_words == order or -FLOAT32_MAX <= float(fields[-1]) <= FLOAT32_MAX)
            except ValueError:
                valid = False
            if not valid:
                _raise_number_error(fields[0], fields[-1] if num_words > order else None, path,
                                    line_no)
            if order == 1:
                known, key = unigrams, fields[1]
            else:
                words = fields[1:order + 1]
                if not unigrams.issuperset(words):
                    unknown = next(word for word in words if word not in unigrams)
                    raise InputFileError(path, line_no, f"word {unknown!r} of this {order}-gram "
                                         "is not in the \\1-grams section")
                known, key = ngrams, " ".join(words)
            if key in known:
                raise InputFileError(path, line_no, f"duplicate {order}-gram {key!r}")
            known.add(key)
            seen[order] += 1
            continue
        line = line.strip()
        if state == "preamble":
            if line == "\\data\\":
                state, data_line = "data", line_no
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
            highest = max(counts, default=0)
            if order not in counts:
                raise InputFileError(path, line_no, f"{line} has no 'ngram {order}=' count in \\data\\")
            seen[order] = 0
            state = "ngrams"
            continue
        if not line.startswith("ngram ") or "=" not in line:
            raise InputFileError(path, line_no, f"expected 'ngram N=count', got {line!r}")
        n_text, count_text = line[len("ngram "):].split("=", 1)
        try:
            n, count = int(n_text), int(count_text)
        except ValueError:
            raise InputFileError(path, line_no, f"malformed count line {line!r}") from None
        if n != len(counts) + 1 or count < 0:
            raise InputFileError(path, line_no, f"unexpected count line {line!r}")
        counts[n] = count  # (state is "data": the other states' lines went on above)
    if state == "preamble":
        raise InputFileError(path, None, "no \\data\\ section: not an ARPA file")
    if state != "end":
        raise InputFileError(path, None, "truncated: no \\end\\ line")
    for n, count in counts.items():
        if seen.get(n) != count:
            raise InputFileError(path, None, f"header says {count} {n}-grams, found {seen.get(n, 0)}")
    if not counts.get(1):
        raise InputFileError(path, data_line, "no n-grams (an LM needs at least one 1-gram)")
    return ArpaSummary(str(path), counts, unigrams.difference(SENTENCE_MARKERS))


def write_arpa_with_unk(source: ArpaSummary, oov_words: Set[str], unk: str,
                        out_path: Union[str, Path]) -> Dict[int, int]:
    """Rewrites an ARPA validated by :func:`read_arpa_summary` so that the unigram probability
    mass of ``oov_words`` goes to ``unk`` (summed) and every higher-order n-gram holding one of
    them is removed. Returns new counts."""
    unk_log10: Optional[float] = None
    unk_backoff = ""
    kept: Dict[int, List[str]] = {n: [] for n in source.counts}
    order = 0
    in_ngrams, in_preamble = False, True
    for _, line in _arpa_lines(source.path):
        if in_preamble:  # free text before \data\, as read_arpa_summary skips it
            in_preamble = line != "\\data\\"
            continue
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
        # A sum above 1 (rounding, or unigrams that are not normalized) is capped at 1.
        kept[1].append(f"{min(unk_log10, 0.0):.6f} {unk}{unk_backoff}")
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
                 out_fst: Union[str, Path]) -> None:
    """Writes G from an ARPA with kaldilm: backoff arcs read #0, <s>/</s> become epsilon/final
    weights, n-grams with words outside ``words_txt`` are skipped (they were counted before).
    Meant for a child process (GrammarCompilation): kaldilm logs every line it reads to file
    descriptor 2 and aborts the process on some errors."""
    import kaldilm

    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(arpa_path)
        if is_gzip(plain) or _has_carriage_return(plain):
            # kaldilm reads plain text only, and would keep a "\r" in each line's last field.
            plain = Path(scratch) / "lm.arpa"
            with open_text(arpa_path, "ARPA file") as source, \
                    open(plain, "w", encoding="utf-8", newline="\n") as copy:
                shutil.copyfileobj(source, copy, 1 << 20)
        kaldilm.arpa2fst(str(plain), str(out_fst), disambig_symbol="#0",
                         read_symbol_table=str(words_txt), max_arpa_warnings=0)


def _has_carriage_return(path: Path) -> bool:
    with open(path, "rb") as handle:
        return any(b"\r" in chunk for chunk in iter(lambda: handle.read(1 << 20), b""))


# The child's program. Its traceback on an abort would only hide kaldilm's message in the log.
_CHILD_CODE = ("import faulthandler, sys; faulthandler.disable(); "
               "from pywfst.graph.grammar import compile_arpa; compile_arpa(*sys.argv[1:])")


class GrammarCompilation:
    """Runs :func:`compile_arpa` in a child Python: kaldilm holds the GIL (so the caller builds L
    meanwhile) and may abort on bad input (so it cannot take the caller down). A new process,
    not a fork: a fork of a caller whose other threads hold a lock at that moment can wait on it
    forever (seen in the sanitized test run), and a spawn would import the caller's main script.
    ``wait()`` returns once G.fst is written, or raises InputFileError with kaldilm's log."""

    def __init__(self, arpa_path: Optional[Union[str, Path]], words_txt: Union[str, Path],
                 out_fst: Union[str, Path]):
        self._arpa_path = arpa_path
        self._paths = (arpa_path, words_txt, out_fst)
        self._log_path = Path(out_fst).with_suffix(".log")
        self._process: Optional[subprocess.Popen] = None

    def __enter__(self) -> "GrammarCompilation":
        if self._arpa_path is not None:
            paths = [str(Path(p).resolve()) for p in self._paths]
            with open(self._log_path, "wb") as log:
                # In the output directory: a working directory holding a pywfst source tree
                # would come first on the child's path.
                self._process = subprocess.Popen([sys.executable, "-c", _CHILD_CODE, *paths],
                                                 cwd=Path(paths[2]).parent,
                                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        return self

    def wait(self) -> None:
        if self._process is None:
            return
        status = self._process.wait()
        if status != 0:
            log = self._log_path.read_text(errors="replace")[-2000:]
            reason = "crashed" if status < 0 else "failed"
            raise InputFileError(self._arpa_path, None, f"kaldilm {reason} compiling it:\n{log}")
        self._log_path.unlink()

    def __exit__(self, *exc_info) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()  # the build stopped early: its G is not wanted
            self._process.wait()
        self._log_path.unlink(missing_ok=True)


def word_loop(word_ids: List[int]) -> fst.VectorFst:
    """G without an LM: any sequence of words, each with the uniform unigram cost ln(#words)."""
    import pywrapfst as fst

    result = fst.VectorFst()
    state = result.add_state()
    result.set_start(state)
    result.set_final(state)
    cost = fst.Weight("tropical", math.log(max(len(word_ids), 1)))
    for word in word_ids:
        result.add_arc(state, fst.Arc(word, word, cost, state))
    result.arcsort("ilabel")
    return result
