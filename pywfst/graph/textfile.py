"""The graph compiler's text inputs: UTF-8, plain or gzip-compressed, read as numbered lines.

A file that is not UTF-8 text is an InputFileError naming the line of its first bad byte (not a
bare UnicodeDecodeError); lines ending in CRLF read as if they ended in LF.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path
from typing import IO, Iterator, Optional, Tuple, Union

from ..errors import InputFileError

PathLike = Union[str, Path]
_GZIP_MAGIC = b"\x1f\x8b"
_CORRUPT_GZIP = (EOFError, OSError, zlib.error)  # what reading a truncated or corrupt gzip raises


def as_path(value: PathLike, name: str) -> Path:
    """``value`` (str, bytes or os.PathLike) as a Path, else a TypeError naming ``name``: open()
    takes an int as a file descriptor (0 would read stdin)."""
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{name}: expected a path (str, bytes or os.PathLike), got {value!r}")
    return Path(os.fsdecode(value))


def is_gzip(path: PathLike) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == _GZIP_MAGIC


def open_binary(path: PathLike, what: str) -> IO[bytes]:
    """Opens a plain or gzip-compressed file; ``what`` names it in the error (``lexicon``)."""
    as_path(path, what)
    try:
        return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")
    except OSError as error:
        raise OSError(f"{path}: cannot read {what}: {error.strerror or error}") from error


def open_text(path: PathLike, what: str) -> IO[str]:
    """The file as UTF-8 text with universal newlines ("\\r\\n" and "\\r" read as "\\n")."""
    return io.TextIOWrapper(open_binary(path, what), encoding="utf-8")


def numbered_lines(path: PathLike, what: str) -> Iterator[Tuple[int, str]]:
    """(line number from 1, line) of a text file; decoding errors name the file and line."""
    with open_text(path, what) as handle:
        try:
            yield from enumerate(handle, start=1)
        except UnicodeDecodeError:
            # The decoder works on blocks, so the line is found again by decoding line by line
            # (only on this error path).
            raise InputFileError(*_first_undecodable(path, what)) from None
        except _CORRUPT_GZIP as error:
            raise InputFileError(path, None, f"unreadable {what}: {error}") from None


def _first_undecodable(path: PathLike, what: str) -> Tuple[PathLike, Optional[int], str]:
    """InputFileError arguments naming the line and column of the first byte that is not UTF-8.
    A gzip file can also be corrupt after that byte, within the line being searched for."""
    with open_binary(path, what) as raw:
        try:
            for line_no, line in enumerate(raw, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as error:
                    return path, line_no, (f"not UTF-8 text: byte 0x{line[error.start]:02x} at "
                                           f"column {error.start + 1} (is this a {what}?)")
        except _CORRUPT_GZIP as error:
            return path, None, f"not UTF-8 text, and unreadable {what}: {error}"
    return path, None, "not UTF-8 text (the file changed while it was read)"
