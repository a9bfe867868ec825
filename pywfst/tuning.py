"""Tuning the LM weight and the word insertion penalty on a dev set, as Kaldi's score.sh sweeps
LMWT x WIP: every grid point decodes the whole set (on the decoder's threads), WER by
Levenshtein alignment; the best point, ties going to the one nearest the defaults, becomes a
settings file (pywfst.settings) that Decoder.from_settings and ``pywfst decode --settings``
read. Decoding is deterministic, so a tuning run gives the same table every time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Union

import numpy as np

from .decoder import Decoder
from .errors import InputFileError
from .graph import Graph
from .graph.textfile import numbered_lines
from .metrics import edit_distance
from .options import SPECS
from .settings import write_settings

DEFAULT_LM_WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5)
DEFAULT_PENALTIES = (-1.0, -0.5, 0.0, 0.5, 1.0)
SWEPT = ("lm_weight", "word_insertion_penalty")


@dataclass(frozen=True)
class TunePoint:
    lm_weight: float
    word_insertion_penalty: float
    errors: int  # word errors over the dev set
    reference_words: int

    @property
    def wer(self) -> float:
        return 100.0 * self.errors / max(self.reference_words, 1)


@dataclass
class TuneResult:
    points: List[TunePoint]  # lm_weight-major, in the order swept
    decoder_options: Dict[str, object] = field(default_factory=dict)  # the others, as given
    utterances: int = 0

    @property
    def best(self) -> TunePoint:
        """The lowest WER; among equals the one nearest lm_weight 1, then penalty 0."""
        return min(self.points, key=lambda p: (p.errors, abs(math.log(p.lm_weight)),
                                               abs(p.word_insertion_penalty)))

    def best_options(self) -> Dict[str, object]:
        best = self.best
        return {**self.decoder_options, "lm_weight": best.lm_weight,
                "word_insertion_penalty": best.word_insertion_penalty}

    def table(self) -> str:
        """WER (%) per lm_weight (rows) and penalty (columns); the best is starred."""
        weights = sorted({p.lm_weight for p in self.points})
        penalties = sorted({p.word_insertion_penalty for p in self.points})
        by_key = {(p.lm_weight, p.word_insertion_penalty): p for p in self.points}
        best = self.best
        lines = ["lm_weight \\ penalty " + "".join(f"{q:>9g}" for q in penalties)]
        for w in weights:
            cells = []
            for q in penalties:
                point = by_key.get((w, q))
                mark = "*" if point is best else " "
                cells.append(f"{point.wer:8.2f}{mark}" if point else f"{'':9}")
            lines.append(f"{w:>19g} " + "".join(cells))
        return "\n".join(lines)

    def plot(self, path: Union[str, Path]) -> None:
        """The WER surface as a heat map (PNG); needs matplotlib (pip install 'pywfst[plot]')."""
        try:
            import matplotlib
        except ImportError:
            raise ImportError("plotting the WER surface needs matplotlib: "
                              "pip install 'pywfst[plot]'") from None
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        weights = sorted({p.lm_weight for p in self.points})
        penalties = sorted({p.word_insertion_penalty for p in self.points})
        grid = np.full((len(weights), len(penalties)), np.nan)
        for p in self.points:
            grid[weights.index(p.lm_weight), penalties.index(p.word_insertion_penalty)] = p.wer
        figure, axes = plt.subplots(figsize=(max(5.0, 1.6 + 0.9 * len(penalties)),
                                             max(3.0, 1.4 + 0.5 * len(weights))))
        image = axes.imshow(grid, cmap="viridis_r", aspect="auto", origin="lower")
        axes.set_xticks(range(len(penalties)), [f"{q:g}" for q in penalties])
        axes.set_yticks(range(len(weights)), [f"{w:g}" for w in weights])
        axes.set_xlabel("word_insertion_penalty")
        axes.set_ylabel("lm_weight")
        low, high = np.nanmin(grid), np.nanmax(grid)
        for (i, j), wer in np.ndenumerate(grid):
            if not np.isnan(wer):  # dark text on the light (low WER) end of the map
                light = high == low or (wer - low) / (high - low) < 0.5
                axes.text(j, i, f"{wer:.1f}", ha="center", va="center", fontsize=8,
                          color="k" if light else "w")
        best = self.best
        axes.set_title(f"WER % over {self.utterances} utterances\nbest {best.wer:.2f} at "
                       f"lm_weight {best.lm_weight:g}, penalty {best.word_insertion_penalty:g}",
                       fontsize=9)
        figure.colorbar(image, ax=axes)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)

    def save(self, path: Union[str, Path], **about) -> None:
        """A settings file with the best options, and the dev WER they reached."""
        best = self.best
        write_settings(path, self.best_options(), tuned={
            "dev_wer": round(best.wer, 4), "utterances": self.utterances,
            "reference_words": best.reference_words, **about})


def read_references(path: Union[str, Path]) -> Dict[str, List[str]]:
    """Kaldi's ``text`` format: one utterance per line, its id then its words."""
    references: Dict[str, List[str]] = {}
    for line_no, line in numbered_lines(path, "references"):
        fields = line.split()
        if not fields:
            continue
        if fields[0] in references:
            raise InputFileError(path, line_no, f"utterance {fields[0]!r} again")
        references[fields[0]] = fields[1:]
    return references


def tune(graph: Union[Graph, str, Path], emissions: Mapping[str, np.ndarray],
         references: Mapping[str, Union[str, Sequence[str]]],
         lm_weights: Sequence[float] = DEFAULT_LM_WEIGHTS,
         penalties: Sequence[float] = DEFAULT_PENALTIES, progress: bool = False,
         **decoder_options) -> TuneResult:
    """Decodes ``emissions`` (utterance id -> [T, V] scores) at every lm_weight x penalty and
    scores them against ``references`` (id -> words, or a string of them; each utterance needs
    one). ``decoder_options``: any other Decoder argument (beam, acoustic_scale, num_threads,
    log_softmax, ...), the same at every point."""
    swept = [name for name in SWEPT if name in decoder_options]
    if swept:
        raise TypeError(f"tune: {swept[0]} is what tune sweeps; give lm_weights= / penalties=")
    if not lm_weights or not penalties:
        raise ValueError("tune: lm_weights and penalties need at least one value each")
    if not emissions:
        raise ValueError("tune: no dev utterances")
    missing = [name for name in emissions if name not in references]
    if missing:
        raise ValueError(f"tune: utterance {missing[0]!r} has no reference "
                         f"({len(missing)} of {len(emissions)} have none)")
    graph = graph if isinstance(graph, Graph) else Graph.load(graph)
    names = list(emissions)
    batch = [emissions[name] for name in names]
    truth = [references[name].split() if isinstance(references[name], str)
             else list(references[name]) for name in names]
    reference_words = sum(len(words) for words in truth)
    grid = [(float(w), float(q)) for w in lm_weights for q in penalties]
    if progress:
        from tqdm import tqdm

        grid_iter = tqdm(grid, desc="tune", unit="point", leave=False)
    else:
        grid_iter = grid
    points = []
    for lm_weight, penalty in grid_iter:
        decoder = Decoder(graph, lm_weight=lm_weight, word_insertion_penalty=penalty,
                          **decoder_options)
        results = decoder.decode_batch(batch, names=names)
        errors = sum(edit_distance(ref, result.words) for ref, result in zip(truth, results))
        points.append(TunePoint(lm_weight, penalty, errors, reference_words))
    search = {k: v for k, v in decoder_options.items() if k in SPECS}
    return TuneResult(points, search, len(names))

