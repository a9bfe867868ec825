"""Reading WAV files and resampling them to the acoustic model's rate."""

from __future__ import annotations

import struct
from math import gcd
from pathlib import Path
from typing import Tuple, Union

import numpy as np

from ..errors import InputFileError


def read_wav(path: Union[str, Path]) -> Tuple[np.ndarray, int]:
    """(mono float32 samples in [-1, 1], sample rate) of a PCM or float WAV file.

    Multi-channel files are averaged to mono. Unreadable or empty files raise InputFileError.
    """
    from scipy.io import wavfile  # here, not on top: decode-only installs have no scipy

    try:
        rate, data = wavfile.read(str(path))
    except (OSError, ValueError, EOFError, struct.error) as error:
        raise InputFileError(path, None, f"not a readable WAV file ({error})") from None
    return to_float_mono(data, path), int(rate)


def to_float_mono(data: np.ndarray, source: Union[str, Path]) -> np.ndarray:
    """Integer PCM scaled to [-1, 1]; channels averaged; NaN/inf and empty input rejected."""
    if data.dtype.kind == "i":
        samples = data.astype(np.float32) / float(-np.iinfo(data.dtype).min)
    elif data.dtype == np.uint8:
        samples = (data.astype(np.float32) - 128.0) / 128.0
    elif data.dtype.kind == "f":
        samples = data.astype(np.float32)
    else:
        raise InputFileError(source, None, f"unsupported sample type {data.dtype}")
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.ndim != 1 or samples.size == 0:
        raise InputFileError(source, None, "no audio samples")
    if not np.all(np.isfinite(samples)):
        raise InputFileError(source, None, "audio contains NaN or infinite samples")
    return samples


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling (anti-aliased) from ``rate`` to ``target_rate``."""
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if rate == target_rate:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly  # here, not on top: decode-only installs have no scipy

    divisor = gcd(rate, target_rate)
    return resample_poly(samples, target_rate // divisor, rate // divisor).astype(np.float32)
