"""The reference acoustic model: WAV -> log-mel -> small conv CTC model (numpy) -> emissions."""

from .acoustic_model import AcousticModel, bundled_model_path
from .audio import read_wav, resample
from .features import FeatureConfig, log_mel

__all__ = ["AcousticModel", "FeatureConfig", "bundled_model_path", "log_mel", "read_wav",
           "resample"]
