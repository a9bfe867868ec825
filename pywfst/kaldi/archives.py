"""Score matrices from Kaldi tables (``ark:post.ark``, ``scp:feats.scp``, ``ark:-``: what
``nnet3-compute`` writes), read by kaldi-native-io (an optional dependency: ``pywfst[kaldi]``)."""

from __future__ import annotations

import re
from typing import Iterator, Tuple

import numpy as np

# An rspecifier: ark or scp, optional comma-separated options, a colon (Kaldi's util/kaldi-table.h)
_RSPECIFIER = re.compile(r"^(ark|scp)(,[a-z]+)*:")


def is_rspecifier(name: str) -> bool:
    return bool(_RSPECIFIER.match(name))


def read_matrices(rspecifier: str) -> Iterator[Tuple[str, np.ndarray]]:
    """(utterance id, float32 matrix) of each entry, in table order. Raises ImportError naming
    the package when kaldi-native-io is not installed, and ValueError naming the rspecifier when
    the table cannot be opened or an entry cannot be read."""
    try:
        import kaldi_native_io
    except ImportError:
        raise ImportError(f"{rspecifier}: reading Kaldi tables needs kaldi-native-io: pip install "
                          "kaldi-native-io (or pywfst[kaldi])") from None
    try:
        reader = kaldi_native_io.SequentialFloatMatrixReader(rspecifier)
    except RuntimeError as error:
        raise ValueError(f"{rspecifier}: cannot open the Kaldi table: {_last_line(error)}") from None
    try:
        while True:
            try:
                if reader.done:
                    return
                # a copy: the value is a view of the reader's buffer, which next() reuses
                key, value = reader.key, np.array(reader.value, dtype=np.float32)
                reader.next()
            except RuntimeError as error:
                raise ValueError(f"{rspecifier}: unreadable entry: {_last_line(error)}") from None
            yield key, value
    finally:
        reader.close()


def _last_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
