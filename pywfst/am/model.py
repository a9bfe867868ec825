"""The reference acoustic model's forward pass in numpy: no torch needed to run it.

Architecture (trained by recipes/reference_am/train.py through :mod:`pywfst.am.torch_model`):
a strided conv over log-mel frames, residual depthwise-separable conv blocks, a linear output and
log-softmax. Batch norms are folded into the convs at export, so inference is matmuls and sums.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict

import numpy as np


@dataclass(frozen=True)
class ModelShape:
    num_mels: int = 80
    channels: int = 256
    num_blocks: int = 10
    input_kernel: int = 5
    block_kernel: int = 15
    stride: int = 3
    num_tokens: int = 29

    def to_dict(self) -> dict:
        return asdict(self)


def output_frames(num_frames: int, shape: ModelShape) -> int:
    """Frames out of the strided input conv (padding kernel // 2 on each side)."""
    pad = shape.input_kernel // 2
    return max(0, (num_frames + 2 * pad - shape.input_kernel) // shape.stride + 1)


class NumpyCtcModel:
    """Runs exported weights (see ``torch_model.export_weights``) on one utterance."""

    def __init__(self, shape: ModelShape, weights: Dict[str, np.ndarray]):
        self.shape = shape
        self.weights = weights
        expected = {"input.weight": (shape.input_kernel * shape.num_mels, shape.channels),
                    "output.weight": (shape.channels, shape.num_tokens)}
        for index in range(shape.num_blocks):
            expected[f"block{index}.depthwise.weight"] = (shape.block_kernel, shape.channels)
            expected[f"block{index}.pointwise.weight"] = (shape.channels, shape.channels)
        for name, wanted in expected.items():
            if name not in weights or weights[name].shape != wanted:
                found = weights[name].shape if name in weights else "missing"
                raise ValueError(f"model weight {name}: expected shape {wanted}, got {found}")

    def log_probs(self, features: np.ndarray) -> np.ndarray:
        """[frames, num_mels] log-mel -> [output_frames, num_tokens] float32 log-probabilities."""
        shape = self.shape
        if features.ndim != 2 or features.shape[1] != shape.num_mels:
            raise ValueError(f"features must be [frames, {shape.num_mels}], got {features.shape}")
        count = output_frames(features.shape[0], shape)
        return self.blocks_and_output(self.input_layer(features, 0, count))

    @property
    def context(self) -> int:
        """Input-layer outputs on each side that one output frame depends on (the blocks'
        receptive field)."""
        return self.shape.num_blocks * (self.shape.block_kernel // 2)

    def input_layer(self, features: np.ndarray, first: int, count: int) -> np.ndarray:
        """Outputs first .. first+count-1 of the strided input conv over an utterance's
        features (zero padded at the utterance's edges)."""
        shape = self.shape
        pad = shape.input_kernel // 2
        padded = np.pad(features.astype(np.float32, copy=False), ((pad, pad), (0, 0)))
        start = first * shape.stride
        return self.input_conv(padded[start:start + (count - 1) * shape.stride
                                      + shape.input_kernel], count)

    def input_conv(self, window: np.ndarray, count: int) -> np.ndarray:
        """``count`` outputs of the strided input conv over ``window``: the (zero padded)
        feature frames they read, output i reading window[i * stride : i * stride + kernel]."""
        shape, w = self.shape, self.weights
        windows = window[np.arange(count)[:, None] * shape.stride
                         + np.arange(shape.input_kernel)[None, :]]
        return np.maximum(windows.reshape(count, -1) @ w["input.weight"] + w["input.bias"], 0.0)

    def blocks_and_output(self, x: np.ndarray) -> np.ndarray:
        """The residual blocks and the output layer over input-layer outputs ``x`` (zero padded
        at its edges: exact for the frames at least ``context`` away from an edge that is not
        the utterance's)."""
        shape, w = self.shape, self.weights
        count = x.shape[0]
        half = shape.block_kernel // 2
        for index in range(shape.num_blocks):
            prefix = f"block{index}."
            taps = w[prefix + "depthwise.weight"]
            padded = np.pad(x, ((half, half), (0, 0)))
            y = np.broadcast_to(w[prefix + "depthwise.bias"], x.shape).copy()
            for k in range(shape.block_kernel):
                y += padded[k:k + count] * taps[k]
            y = np.maximum(y, 0.0)
            y = np.maximum(y @ w[prefix + "pointwise.weight"] + w[prefix + "pointwise.bias"], 0.0)
            x = x + y
        logits = x @ w["output.weight"] + w["output.bias"]
        logits -= logits.max(axis=1, keepdims=True)
        return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)
