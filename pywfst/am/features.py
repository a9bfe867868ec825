"""Log-mel filterbank features (numpy only), the acoustic model's input.

The same function computes training and inference features, so they cannot drift apart.
Framing follows Kaldi's snip-edges convention: frame i covers samples [i*hop, i*hop + window).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int = 16000
    window: int = 400        # 25 ms
    hop: int = 160           # 10 ms
    fft_size: int = 512
    num_mels: int = 80
    low_hz: float = 20.0
    high_hz: float = 7600.0
    preemphasis: float = 0.97


def hz_to_mel(hz):
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * np.expm1(np.asarray(mel, dtype=np.float64) / 1127.0)


@lru_cache(maxsize=4)
def mel_filterbank(config: FeatureConfig) -> np.ndarray:
    """[fft_size // 2 + 1, num_mels] triangular filters, evenly spaced on the mel scale."""
    edges = mel_to_hz(np.linspace(hz_to_mel(config.low_hz), hz_to_mel(config.high_hz),
                                  config.num_mels + 2))
    bin_hz = np.arange(config.fft_size // 2 + 1) * config.sample_rate / config.fft_size
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bin_hz[None, :] - lower) / (centre - lower)
    falling = (upper - bin_hz[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).T.astype(np.float32)


def num_frames(num_samples: int, config: FeatureConfig = FeatureConfig()) -> int:
    if num_samples < config.window:
        return 0
    return 1 + (num_samples - config.window) // config.hop


def log_mel(samples: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """[frames, num_mels] float32 log-mel energies, mean-normalised per utterance.

    ``samples`` are mono floats at ``config.sample_rate``; audio shorter than one window is
    padded with zeros to one frame.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < config.window:
        samples = np.pad(samples, (0, config.window - samples.size))
    emphasised = preemphasis(samples, config)
    energies = frame_energies(emphasised, 0, num_frames(emphasised.size, config), config)
    return energies - energies.mean(axis=0, keepdims=True)


def preemphasis(samples: np.ndarray, config: FeatureConfig, previous: float = None) -> np.ndarray:
    """x[n] - a x[n-1]; the first sample is kept as it is, unless ``previous`` (the sample
    before these, when audio arrives in pieces) is given."""
    before = samples[:1] if previous is None else samples[:1] - config.preemphasis * previous
    return np.append(before, samples[1:] - config.preemphasis * samples[:-1]).astype(np.float32)


def frame_energies(emphasised: np.ndarray, first: int, count: int,
                   config: FeatureConfig) -> np.ndarray:
    """[count, num_mels] log-mel energies (not normalised) of frames first .. first+count-1 of a
    pre-emphasised signal, which must hold all their samples."""
    starts = (first + np.arange(count))[:, None] * config.hop
    frames = emphasised[starts + np.arange(config.window)[None, :]]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames *= np.hanning(config.window).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, n=config.fft_size, axis=1)) ** 2
    return np.log(np.maximum(power.astype(np.float32) @ mel_filterbank(config), 1e-10))
