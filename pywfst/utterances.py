"""Utterances read from emission files (.npy, .npz, Kaldi tables), and decoding many of them
where a bad one costs only its own result: what ``pywfst decode`` and pywfst.ray share."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Tuple, Union
import zipfile

import numpy as np

from .decoder import Decoder
from .kaldi import archives
from .result import Result

FRAME_SHIFT_KEY = "frame_shift"  # an .npz entry beside the utterances: seconds per frame
READ_ERRORS = (OSError, ValueError, zipfile.BadZipFile, EOFError)  # what np.load raises


@dataclass
class Utterance:
    name: str  # printed with its result: the .npy file's stem or the .npz key
    source: str  # for messages: the file, or file[key]
    frame_shift: Optional[float] = None  # the .npz file's frame_shift entry
    scores: Optional[np.ndarray] = None
    error: Optional[str] = None  # why it could not be read (then there are no scores)


def read_emissions(paths: List[str]) -> Iterator[Utterance]:
    """The utterances of .npy files (id = file stem), .npz files (id = key; a ``frame_shift``
    entry holds the seconds per frame of all of them) and Kaldi tables (``ark:post.ark``), read
    one at a time. A file that cannot be read comes as one utterance with an error, so that the
    caller may go on past it."""
    for name in paths:
        if archives.is_rspecifier(name):
            yield from _read_kaldi_table(name)
            continue
        path = Path(name)
        try:
            loaded = np.load(path, allow_pickle=False)
        except READ_ERRORS as error:
            yield Utterance(path.stem, str(path),
                            error=f"{path}: not a readable .npy/.npz file: {error}")
            continue
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            yield Utterance(path.stem, str(path), scores=loaded)
            continue
        with loaded:
            try:
                frame_shift = _frame_shift_entry(loaded, path)
            except ValueError as error:
                yield Utterance(path.stem, str(path), error=str(error))
                continue
            for key in loaded.files:
                if key == FRAME_SHIFT_KEY:
                    continue
                source = f"{path}[{key}]"
                try:
                    scores = loaded[key]
                except READ_ERRORS as error:
                    yield Utterance(key, source, error=f"{source}: unreadable: {error}")
                else:
                    yield Utterance(key, source, frame_shift, scores)


def _read_kaldi_table(rspecifier: str) -> Iterator[Utterance]:
    try:
        for key, scores in archives.read_matrices(rspecifier):
            yield Utterance(key, f"{rspecifier}[{key}]", scores=scores)
    except ValueError as error:
        yield Utterance(rspecifier, rspecifier, error=str(error))


def _frame_shift_entry(archive, path: Path) -> Optional[float]:
    if FRAME_SHIFT_KEY not in archive.files:
        return None
    where = f"{path}[{FRAME_SHIFT_KEY}]"
    try:
        value = archive[FRAME_SHIFT_KEY]
    except READ_ERRORS as error:
        raise ValueError(f"{where}: unreadable: {error}") from None
    if value.ndim != 0 or value.dtype.kind not in "iuf" or not 0 < float(value) < math.inf:
        found = repr(value.item()) if value.ndim == 0 else f"an array of shape {value.shape}"
        raise ValueError(f"{where}: expected the seconds per frame, one number > 0, got {found}")
    return float(value)


def decode_utterances(decoder: Decoder, utterances: Iterable[Utterance], batch_size: int,
                      file_frame_shift: bool = True
                      ) -> Iterator[Tuple[Utterance, Union[Result, str]]]:
    """(utterance, its result or why it failed) in input order, decoded ``batch_size`` at a time
    on the decoder's threads. A batch that fails is decoded again one utterance at a time, so a
    bad utterance costs only its own result and its message names it. With
    ``file_frame_shift`` (the caller gave the decoder no frame_shift of its own), a result's word
    times use its file's ``frame_shift`` entry where it has one."""
    utterances = iter(utterances)
    while batch := list(itertools.islice(utterances, batch_size)):
        readable = [u for u in batch if u.error is None]
        try:
            results: Optional[Iterator[Result]] = iter(_decode(decoder, readable))
        except (ValueError, TypeError):
            results = None
        for utterance in batch:
            if utterance.error is not None:
                yield utterance, utterance.error
                continue
            outcome = next(results) if results is not None else _decode_alone(decoder, utterance)
            shift = utterance.frame_shift if file_frame_shift else None
            if shift is not None and isinstance(outcome, Result):
                outcome = dataclasses.replace(outcome, frame_shift=shift)
            yield utterance, outcome


def _decode(decoder: Decoder, batch: List[Utterance]) -> List[Result]:
    return decoder.decode_batch([u.scores for u in batch], names=[u.source for u in batch])


def _decode_alone(decoder: Decoder, utterance: Utterance) -> Union[Result, str]:
    try:
        return _decode(decoder, [utterance])[0]
    except (ValueError, TypeError) as error:
        message = str(error)
        return message if utterance.source in message else f"{utterance.source}: {message}"
