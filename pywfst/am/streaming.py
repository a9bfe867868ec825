"""EmissionStream: the reference acoustic model's emissions of audio that arrives in pieces.

An output frame depends on a bounded stretch of audio (the input conv's window and the blocks'
receptive field: ``context`` input-layer frames each side, 2.1 s of audio either way for the
bundled model), so it is emitted as soon as that audio has arrived, computed over a window of
the recent features only. Features are normalised by their mean over the audio so far (offline,
by the mean over the whole utterance; that is the one difference: given the whole utterance's
mean as ``feature_mean``, the stream's emissions equal :meth:`AcousticModel.emissions`).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .acoustic_model import AcousticModel
from .audio import to_float_mono
from .features import frame_energies, num_frames, preemphasis
from .model import output_frames


class EmissionStream:
    """``accept(samples)`` returns the emission frames [n, tokens] that the audio so far
    determines (n may be 0); ``finish()`` returns the rest. Samples are at the model's rate
    (``model.features.sample_rate``)."""

    def __init__(self, model: AcousticModel, feature_mean: Optional[np.ndarray] = None):
        self.model = model
        self.config = model.features
        self.network = model.network
        self._emphasised = np.zeros(0, np.float32)
        self._last_sample: Optional[float] = None
        self._energies = np.zeros((0, self.config.num_mels), np.float32)
        self._fixed_mean = None if feature_mean is None else np.asarray(feature_mean, np.float32)
        self._emitted = 0
        self._finished = False

    def accept(self, samples) -> np.ndarray:
        if self._finished:
            raise ValueError("accept: the stream is finished")
        samples = np.asarray(samples)
        if samples.size:  # an empty piece is allowed: it only asks for what is ready
            samples = to_float_mono(samples, "samples")
            self._emphasised = np.append(self._emphasised,
                                         preemphasis(samples, self.config, self._last_sample))
            self._last_sample = float(samples[-1])
        self._add_frames()
        # input-layer output i reads feature frames up to stride * i + kernel // 2: the ones
        # whose frames have all arrived, minus the blocks' context, are final
        shape = self.network.shape
        frames = len(self._energies)
        computable = max(0, (frames - 1 - shape.input_kernel // 2) // shape.stride + 1)
        return self._emit(computable - self.network.context, computable)

    def finish(self) -> np.ndarray:
        """The remaining frames (the end of the audio is known now: zero padding follows)."""
        if self._finished:
            raise ValueError("finish: the stream is finished")
        self._finished = True
        if len(self._emphasised) < self.config.window:  # as offline: one frame of zero padding
            self._emphasised = np.pad(self._emphasised, (0, self.config.window
                                                         - len(self._emphasised)))
            self._add_frames()
        total = output_frames(len(self._energies), self.network.shape)
        return self._emit(total, total)

    def _add_frames(self) -> None:
        count = num_frames(len(self._emphasised), self.config) - len(self._energies)
        if count > 0:
            new = frame_energies(self._emphasised, len(self._energies), count, self.config)
            self._energies = np.concatenate([self._energies, new])

    def _emit(self, ready: int, computable: int) -> np.ndarray:
        """Output frames [emitted, ready) from input-layer outputs [.., computable)."""
        if ready <= self._emitted:
            return np.zeros((0, self.network.shape.num_tokens), np.float32)
        context = self.network.context
        first = max(0, self._emitted - context)
        last = min(computable, ready + context)
        mean = (self._fixed_mean if self._fixed_mean is not None
                else self._energies.mean(axis=0, keepdims=True))
        x = self.network.input_layer(self._energies - mean, first, last - first)
        out = self.network.blocks_and_output(x)[self._emitted - first:ready - first]
        self._emitted = ready
        return out
