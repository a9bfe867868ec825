"""``AcousticModel``: audio in, CTC emissions [T, V] out, ready for :class:`pywfst.Decoder`.

A model file is one ``.npz``: the folded weights plus a ``meta`` entry (JSON) with the model
shape, feature settings, token list and training summary. The bundled reference model is
``pywfst/data/am/reference_char_ctc.npz`` (see recipes/reference_am/MODEL_CARD.md).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from ..errors import InputFileError
from .audio import read_wav, resample, to_float_mono
from .features import FeatureConfig, log_mel
from .model import ModelShape, NumpyCtcModel

Audio = Union[str, Path, np.ndarray]


def bundled_model_path() -> Path:
    return Path(str(resources.files("pywfst") / "data" / "am" / "reference_char_ctc.npz"))


class AcousticModel:
    """A CTC acoustic model run with numpy. Token ``j`` is emission column ``j``; token 0 is the
    blank, as pywfst's graph compiler expects."""

    def __init__(self, shape: ModelShape, weights: Dict[str, np.ndarray], tokens: List[str],
                 features: FeatureConfig = FeatureConfig(), info: Optional[dict] = None):
        if len(tokens) != shape.num_tokens:
            raise ValueError(f"{len(tokens)} tokens for a model with {shape.num_tokens} outputs")
        self.network = NumpyCtcModel(shape, weights)
        self.tokens = list(tokens)
        self.features = features
        self.info = dict(info or {})

    @classmethod
    def load(cls, path: Union[str, Path, None] = None) -> "AcousticModel":
        """Load a model file; without a path, the bundled reference model."""
        path = Path(path) if path is not None else bundled_model_path()
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except (OSError, ValueError, EOFError) as error:
            raise InputFileError(path, None, f"not a pywfst model file ({error})") from None
        if "meta" not in arrays:
            raise InputFileError(path, None, "no 'meta' entry: not a pywfst model file")
        try:
            meta = json.loads(str(arrays.pop("meta")))
            return cls(ModelShape(**meta["shape"]), arrays, meta["tokens"],
                       FeatureConfig(**meta["features"]), meta.get("info"))
        except (KeyError, TypeError, ValueError) as error:
            raise InputFileError(path, None, f"inconsistent model file: {error}") from None

    def save(self, path: Union[str, Path]) -> None:
        meta = {"shape": self.network.shape.to_dict(), "tokens": self.tokens,
                "features": asdict(self.features), "info": self.info}
        np.savez(path, meta=np.array(json.dumps(meta)), **self.network.weights)

    @property
    def frame_shift(self) -> float:
        """Seconds between two emission frames."""
        return self.features.hop * self.network.shape.stride / self.features.sample_rate

    def write_tokens(self, path: Union[str, Path]) -> Path:
        """tokens.txt (``symbol id``) for ``pywfst build-graph --tokens``."""
        Path(path).write_text("".join(f"{t} {i}\n" for i, t in enumerate(self.tokens)))
        return Path(path)

    def emissions(self, audio: Audio, sample_rate: Optional[int] = None) -> np.ndarray:
        """CTC log-probabilities [frames, tokens] (float32) of a WAV file or a sample array.

        A sample array needs ``sample_rate``; any rate is resampled to the model's.
        """
        if isinstance(audio, (str, Path)):
            samples, sample_rate = read_wav(audio)
        else:
            if sample_rate is None:
                raise ValueError("sample_rate is required when audio is an array of samples")
            samples = to_float_mono(np.asarray(audio), "audio argument")
        samples = resample(samples, int(sample_rate), self.features.sample_rate)
        return self.network.log_probs(log_mel(samples, self.features))
