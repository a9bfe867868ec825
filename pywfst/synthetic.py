"""Simulated CTC emissions for a known token sequence: for decoder tests, benchmarks and the
demo while no acoustic model is bundled. Each token is held 1-3 frames with blanks around it;
a frame's logits are Gaussian noise plus a peak on its column, and with ``confusion`` probability
a token frame peaks on a random other token instead (so greedy decoding makes errors that a
lexicon and LM can correct)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def simulate_ctc_emissions(token_ids: Sequence[int], num_columns: int, rng: np.random.Generator,
                           peak: float = 6.0, noise: float = 1.0, confusion: float = 0.0,
                           blank: int = 0) -> np.ndarray:
    """Log-probabilities [T, num_columns] (float32) whose greedy reading is ``token_ids`` up to
    the simulated confusions."""
    columns = [blank] * int(rng.integers(1, 4))
    for index, token in enumerate(token_ids):
        repeated = index + 1 < len(token_ids) and token_ids[index + 1] == token
        columns += [token] * int(rng.integers(1, 4))
        columns += [blank] * int(rng.integers(1 if repeated else 0, 3))
    frames = np.array(columns)
    logits = rng.normal(0.0, noise, size=(len(frames), num_columns))
    logits[np.arange(len(frames)), frames] += peak
    if confusion > 0.0:
        confused = (frames != blank) & (rng.random(len(frames)) < confusion)
        others = rng.integers(1, num_columns, size=len(frames))
        logits[confused, others[confused]] += peak + 1.0
    logits -= logits.max(axis=1, keepdims=True)
    return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)


def greedy_ctc(emissions: np.ndarray, blank: int = 0) -> list:
    """Best column per frame, repeats merged, blanks removed (the no-graph baseline)."""
    best = np.asarray(emissions).argmax(axis=1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(t) for t in best[keep] if t != blank]


def greedy_text(emissions: np.ndarray, tokens: Sequence[str], blank: int = 0,
                boundary: str = "|") -> str:
    """Greedy CTC reading as text: token symbols joined, the word-boundary token as a space."""
    chars = "".join(tokens[t] for t in greedy_ctc(emissions, blank=blank))
    return " ".join(chars.replace(boundary, " ").split())
