"""Calibrated word confidences: P(word is right), learnt from a dev set with references.

A word's n-best posterior (Result.confidences) says how much the search doubted it, not how
often such words are right: with a weak acoustic model most wrong words have posterior ~1 (every
hypothesis agrees on them). Like Kaldi's steps/conf, a logistic regression maps per-word
features to the probability that the word is right, fitted on decoded dev utterances whose words
are aligned to references (Levenshtein). The features:

- the word's n-best posterior, as log p and log (1 - p);
- its length in characters, and log(frames per character) (words squeezed or stretched);
- the mean and the minimum, over the word's frames, of the best path's per-frame score (the
  emission of the column the path read: how sure the acoustic model was).

    calibration = ConfidenceCalibration.fit(results, emissions, references)   # dev set
    calibration.save("calibration.json")
    confidences = calibration.confidences(result, scores)                     # any decode

The results must come from a decoder with nbest > 1, and ``emissions`` are the scores each was
decoded from (the same array as passed to ``decode``, as it was passed: the frame scores are
read before any log-softmax, priors or acoustic scale), so a calibration holds for the kind of
scores and the decoder settings it was fitted with.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Union

import numpy as np

from .errors import InputFileError
from .metrics import align_words
from .result import Result

FEATURES = ("log_posterior", "log_one_minus_posterior", "characters",
            "log_frames_per_character", "mean_frame_score", "min_frame_score", "bias")
FORMAT = "pywfst-confidence-calibration-1"
_FLOOR = 1e-4  # posteriors are clipped to [floor, 1 - floor] before their logs


def word_features(result: Result, emissions) -> np.ndarray:
    """[words, len(FEATURES)] features of the 1-best words of ``result``."""
    if result.confidences is None and result.words:
        raise ValueError("result: confidence features need alternatives (a Decoder with "
                         "nbest > 1 or lattice=True)")
    scores = np.asarray(emissions, dtype=np.float32)
    alignment = np.asarray(result.alignment, dtype=np.int64)
    if scores.ndim != 2 or scores.shape[0] < len(alignment) or (
            len(alignment) and alignment.max() >= scores.shape[1]):
        raise ValueError(f"emissions: shape {scores.shape} is not the [T, V] scores this result "
                         f"was decoded from ({len(alignment)} frames)")
    frame_scores = scores[np.arange(len(alignment)), alignment]
    posteriors = result.confidences or []
    rows = []
    for word, posterior, (first, last) in zip(result.words, posteriors, result.word_spans):
        posterior = min(max(posterior, _FLOOR), 1.0 - _FLOOR)
        span = frame_scores[first:last + 1]
        if not len(span):  # a word output without a frame of its own (degenerate spans)
            span = frame_scores[max(0, first - 1):first + 1]
        characters = max(len(word), 1)
        rows.append([math.log(posterior), math.log(1.0 - posterior), characters,
                     math.log(max(last - first + 1, 1) / characters),
                     float(span.mean()) if len(span) else 0.0,
                     float(span.min()) if len(span) else 0.0, 1.0])
    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def _logistic(logits: np.ndarray) -> np.ndarray:
    """P(right) from the regression's logits: what fit() trains and confidences() reports."""
    return 1.0 / (1.0 + np.exp(-logits))


def word_correctness(result: Result, reference: str) -> List[bool]:
    """Per 1-best word: does a Levenshtein alignment to ``reference`` call it right?"""
    truth = reference.split()
    right = [False] * len(result.words)
    for i, j in align_words(result.words, truth):
        if i is not None and j is not None and result.words[i] == truth[j]:
            right[i] = True
    return right


@dataclass(frozen=True)
class ConfidenceCalibration:
    weights: np.ndarray  # one per FEATURES entry

    @classmethod
    def fit(cls, results: Sequence[Result], emissions: Sequence, references: Sequence[str],
            l2: float = 1e-2) -> "ConfidenceCalibration":
        """Logistic regression (Newton's method, L2 penalty ``l2``) of word correctness on the
        features, over every 1-best word of ``results``."""
        if not len(results) == len(emissions) == len(references):
            raise ValueError(f"results, emissions, references: {len(results)}, "
                             f"{len(emissions)} and {len(references)} items; one of each per "
                             "utterance")
        features = np.concatenate([word_features(r, e) for r, e in zip(results, emissions)])
        right = np.array([ok for r, ref in zip(results, references)
                          for ok in word_correctness(r, ref)], dtype=np.float64)
        if len(right) == 0 or right.min() == right.max():
            raise ValueError("references: the dev words must hold both right and wrong ones to "
                             f"learn from ({int(right.sum())} of {len(right)} right)")
        weights = np.zeros(len(FEATURES))
        for _ in range(100):
            p = _logistic(features @ weights)
            gradient = features.T @ (p - right) + l2 * weights
            hessian = (features * (p * (1 - p))[:, None]).T @ features + l2 * np.eye(len(FEATURES))
            step = np.linalg.solve(hessian, gradient)
            weights -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(weights)

    def confidences(self, result: Result, emissions) -> List[float]:
        """P(right) of each 1-best word of ``result``."""
        return _logistic(word_features(result, emissions) @ self.weights).tolist()

    def save(self, path: Union[str, Path]) -> None:
        Path(path).write_text(json.dumps({
            "format": FORMAT, "features": list(FEATURES),
            "weights": [float(w) for w in self.weights]}, indent=2) + "\n")

    @classmethod
    def load(cls, path: Union[str, Path]) -> "ConfidenceCalibration":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputFileError(path, None, f"not a calibration file ({error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputFileError(path, None, f"not a calibration file (expected format {FORMAT})")
        weights = data.get("weights")
        if (data.get("features") != list(FEATURES) or not isinstance(weights, list)
                or len(weights) != len(FEATURES)
                or not all(isinstance(w, (int, float)) and not isinstance(w, bool)
                           and math.isfinite(w) for w in weights)):
            raise InputFileError(path, None, f"expected {len(FEATURES)} finite weights for the "
                                 f"features {list(FEATURES)}")
        return cls(np.array(weights, dtype=np.float64))
