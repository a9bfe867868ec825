"""Reads the primitives of Kaldi's object files (tokens, basic types, vectors) in both of Kaldi's
forms: binary (the file starts with "\\0B"; a basic type is one size byte then its little-endian
bytes, a token ends with one space) and text (whitespace-separated fields).

Kaldi writes objects as a sequence of these primitives (base/io-funcs.h explains the format), so a
reader of one object type is a short list of calls. Every error names the file and the byte
offset where reading stopped, and nothing is read beyond the object: the rest of the file (a
model's neural network after its transition model) is never touched.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import BinaryIO, List, Union

from ..errors import InputFileError

BINARY_HEADER = b"\0B"
_WHITESPACE = b" \t\n\r\v\f"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_TOKEN = 256  # Kaldi's tokens are short (<TransitionModel>); a longer one is not a token


class KaldiObjectError(InputFileError):
    """A malformed Kaldi object file; the message starts with ``path: byte N:``."""

    def __init__(self, path: Union[str, Path], offset: int, message: str):
        super().__init__(path, None, f"byte {offset}: {message}")
        self.offset = offset

    def __reduce__(self):
        return (KaldiObjectError, (self.path, self.offset, self.message.split(": ", 1)[1]))


class KaldiObjectReader:
    """Sequential reads from an open file. ``binary`` tells the form, found from the header."""

    def __init__(self, stream: BinaryIO, path: Union[str, Path]):
        self._stream = stream
        self.path = str(path)
        self.binary = stream.read(2) == BINARY_HEADER
        if not self.binary:
            stream.seek(0)

    @property
    def offset(self) -> int:
        return self._stream.tell()

    def error(self, message: str, offset: int = -1) -> KaldiObjectError:
        return KaldiObjectError(self.path, self.offset if offset < 0 else offset, message)

    def _read_exact(self, count: int, what: str) -> bytes:
        start = self.offset
        data = self._stream.read(count)
        if len(data) != count:
            raise self.error(f"the file ends inside {what}", start)
        return data

    def _skip_whitespace(self) -> None:
        while True:
            char = self._stream.read(1)
            if not char:
                return
            if char not in _WHITESPACE:
                self._stream.seek(-1, 1)
                return

    def _field(self, what: str) -> str:
        """The next whitespace-delimited field (text form, and every token)."""
        self._skip_whitespace()
        start = self.offset
        field = bytearray()
        while True:
            char = self._stream.read(1)
            if not char or char in _WHITESPACE:
                break
            field += char
            if len(field) > _MAX_TOKEN:
                raise self.error(f"expected {what}, found a field longer than {_MAX_TOKEN} bytes",
                                 start)
        if not field:
            raise self.error(f"the file ends where {what} was expected", start)
        # The one whitespace byte read after the field is consumed: in the binary form it is the
        # space that ends a token, and the next field's bytes (counts, values) follow it.
        try:
            return field.decode("ascii")
        except UnicodeDecodeError:
            raise self.error(f"expected {what}, found bytes that are not text", start) from None

    def token(self) -> str:
        return self._field("a token")

    def expect(self, token: str) -> None:
        start = self.offset
        found = self.token()
        if found != token:
            raise self.error(f"expected {token}, found {found!r}", start)

    def int32(self, what: str) -> int:
        if self.binary:
            start = self.offset
            size = self._read_exact(1, what)[0]
            if size != 4:
                raise self.error(f"{what}: expected a 32-bit integer (size byte 4), found size "
                                 f"byte {size}", start)
            return struct.unpack("<i", self._read_exact(4, what))[0]
        return self._text_value(what, parse_int32, "an integer")

    def real(self, what: str) -> float:
        if self.binary:
            start = self.offset
            size = self._read_exact(1, what)[0]
            if size not in (4, 8):
                raise self.error(f"{what}: expected a float or double (size byte 4 or 8), found "
                                 f"size byte {size}", start)
            return struct.unpack("<f" if size == 4 else "<d", self._read_exact(size, what))[0]
        return self._text_value(what, parse_real, "a number")

    def int32_vector(self, what: str, limit: int) -> List[int]:
        """Kaldi's WriteIntegerVector: binary, size byte 4, an int32 count, the values; text,
        "[ a b ... ]". At most ``limit`` values (a count beyond it is corruption)."""
        if not self.binary:
            return self._text_vector(what, limit, parse_int32, "an integer")
        start = self.offset
        if self._read_exact(1, what)[0] != 4:
            raise self.error(f"{what}: expected a vector of 32-bit integers", start)
        count = self._count(struct.unpack("<i", self._read_exact(4, what))[0], what, limit, start)
        return list(struct.unpack(f"<{count}i", self._read_exact(4 * count, what)))

    def real_vector(self, what: str, limit: int) -> List[float]:
        """Kaldi's Vector<float|double>::Write: binary, token FV or DV, an int32 count, the
        values; text, "[ a b ... ]"."""
        if not self.binary:
            return self._text_vector(what, limit, parse_real, "a number")
        start = self.offset
        kind = self.token()
        if kind not in ("FV", "DV"):
            raise self.error(f"{what}: expected a vector (FV or DV), found {kind!r}", start)
        count = self._count(self.int32(what), what, limit, start)
        code, size = ("f", 4) if kind == "FV" else ("d", 8)
        return list(struct.unpack(f"<{count}{code}", self._read_exact(size * count, what)))

    def _count(self, count: int, what: str, limit: int, start: int) -> int:
        if not 0 <= count <= limit:
            raise self.error(f"{what}: impossible length {count}", start)
        return count

    def _text_value(self, what: str, parse, expected: str, closing: str = ""):
        """The next field parsed; ``closing`` (e.g. "]") is returned as it is."""
        start = self.offset
        field = self._field(what)
        if field == closing:
            return closing
        try:
            return parse(field)
        except ValueError as error:
            detail = f" ({error})" if "32 bits" in str(error) else ""
            alternative = f" or {closing!r}" if closing else ""
            raise self.error(f"{what}: expected {expected}{alternative}, found {field!r}{detail}",
                             start) from None

    def _text_vector(self, what: str, limit: int, parse, expected: str) -> list:
        start = self.offset
        if self._field(what) != "[":
            raise self.error(f"{what}: expected '[' to open the vector", start)
        values = []
        while (value := self._text_value(what, parse, expected, closing="]")) != "]":
            values.append(value)
            if len(values) > limit:
                raise self.error(f"{what}: more than {limit} values", start)
        return values


def parse_int32(field: str) -> int:
    """A decimal integer as Kaldi writes one (no '_' digit separators, which int() accepts)."""
    if not _INTEGER.fullmatch(field):
        raise ValueError(f"invalid integer {field!r}")
    value = int(field, 10)
    if not -2**31 <= value < 2**31:
        raise ValueError(f"{value} does not fit in 32 bits")
    return value


def parse_real(field: str) -> float:
    """A number as Kaldi writes one (float() also takes '_' digit separators: Kaldi does not)."""
    if "_" in field:
        raise ValueError(f"invalid number {field!r}")
    return float(field)
