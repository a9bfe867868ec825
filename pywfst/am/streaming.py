"""EmissionStream: the reference acoustic model's emissions of audio that arrives in pieces.

An output frame depends on a bounded stretch of audio (the input conv's window and the blocks'
receptive field: ``context`` input-layer frames each side, 3.4 s of audio either way for the
bundled v3 model, 2.1 s for v1 and v2), so it is emitted as soon as that audio has arrived, computed over a window of
the recent features only; the stream keeps only the samples and features that later frames
need, so a chunk costs the same after an hour as after a second. Features are normalised by
their mean over the audio so far (offline, by the mean over the whole utterance; that is the one
difference: given the whole utterance's mean as ``feature_mean``, the stream's emissions equal
:meth:`AcousticModel.emissions`).
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
        self.config = model.features
        self.network = model.network
        mels = self.config.num_mels
        self._fixed_mean = None
        if feature_mean is not None:
            self._fixed_mean = np.asarray(feature_mean, np.float32)
            if self._fixed_mean.size != mels:
                raise ValueError(f"feature_mean: expected {mels} values (one per mel band), got "
                                 f"shape {self._fixed_mean.shape}")
            self._fixed_mean = self._fixed_mean.reshape(1, mels)
        self._samples = np.zeros(0, np.float32)  # pre-emphasised, from frame _num_frames's start
        self._last_sample: Optional[float] = None
        self._energies = np.zeros((0, mels), np.float32)  # frames _first_frame .. _num_frames-1
        self._first_frame = 0
        self._num_frames = 0
        self._energy_sum = np.zeros(mels, np.float64)
        self._emitted = 0
        self._finished = False

    def accept(self, samples) -> np.ndarray:
        if self._finished:
            raise ValueError("accept: the stream is finished")
        samples = np.asarray(samples)
        if samples.size:  # an empty piece is allowed: it only asks for what is ready
            samples = to_float_mono(samples, "samples")
            self._add_samples(preemphasis(samples, self.config, self._last_sample))
            self._last_sample = float(samples[-1])
        # input-layer output i reads feature frames up to stride * i + kernel // 2: the ones
        # whose frames have all arrived, minus the blocks' context, are final
        shape = self.network.shape
        computable = max(0, (self._num_frames - 1 - shape.input_kernel // 2) // shape.stride + 1)
        return self._emit(computable - self.network.context, computable)

    def finish(self) -> np.ndarray:
        """The remaining frames (the end of the audio is known now: zero padding follows)."""
        if self._finished:
            raise ValueError("finish: the stream is finished")
        self._finished = True
        short = self.config.window - self._num_samples()
        if short > 0:  # as offline: the audio is padded with zeros to one window
            self._add_samples(preemphasis(np.zeros(short, np.float32), self.config,
                                          self._last_sample))
        total = output_frames(self._num_frames, self.network.shape)
        return self._emit(total, total)

    def _add_samples(self, emphasised: np.ndarray) -> None:
        """Appends pre-emphasised samples and computes the feature frames they complete."""
        self._samples = np.append(self._samples, emphasised)
        count = num_frames(self._num_samples(), self.config) - self._num_frames
        if count <= 0:
            return
        new = frame_energies(self._samples, 0, count, self.config)
        self._energies = np.concatenate([self._energies, new])
        self._energy_sum += new.sum(axis=0, dtype=np.float64)
        self._num_frames += count
        self._samples = self._samples[count * self.config.hop:]  # the next frame starts here

    def _num_samples(self) -> int:
        """Samples accepted so far: those of the frames computed, and the ones held after."""
        return self._num_frames * self.config.hop + len(self._samples)

    def _emit(self, ready: int, computable: int) -> np.ndarray:
        """Output frames [emitted, ready) from input-layer outputs [.., computable)."""
        if ready <= self._emitted:
            return np.zeros((0, self.network.shape.num_tokens), np.float32)
        shape, context = self.network.shape, self.network.context
        pad = shape.input_kernel // 2
        first = max(0, self._emitted - context)
        last = min(computable, ready + context)
        mean = (self._fixed_mean if self._fixed_mean is not None
                else (self._energy_sum / self._num_frames).astype(np.float32)[None, :])
        # The feature frames outputs first .. last-1 read, zero beyond the utterance's edges.
        low, high = first * shape.stride - pad, (last - 1) * shape.stride + pad + 1
        window = np.zeros((high - low, shape.num_mels), np.float32)
        have_low, have_high = max(low, 0), min(high, self._num_frames)
        window[have_low - low:have_high - low] = (
            self._energies[have_low - self._first_frame:have_high - self._first_frame] - mean)
        x = self.network.input_conv(window, last - first)
        out = self.network.blocks_and_output(x)[self._emitted - first:ready - first]
        self._emitted = ready
        # Later outputs start from input-layer output ready - context: drop the frames before
        # the first one it reads.
        keep_from = max(0, (ready - context) * shape.stride - pad)
        if keep_from > self._first_frame:
            self._energies = self._energies[keep_from - self._first_frame:]
            self._first_frame = keep_from
        return out
