"""Scale-out on Ray Data: decode a dataset of emissions, or of WAV files through an acoustic
model, on a Ray cluster. Each actor loads the graph once (a Graph travels as its path) and
decodes its batches on its own CPUs.

    import pywfst.ray
    ds = pywfst.ray.emissions_dataset(["test.npz", "more.npz"])     # rows: id, emissions
    decoded = pywfst.ray.decode_dataset(ds, "graph/", beam=12)       # rows: id, text, words, ...
    decoded.write_json("hyp/")                                       # JSON lines

    ds = ray.data.from_items([{"id": "a", "path": "a.wav"}, ...])    # or read your own table
    decoded = pywfst.ray.decode_dataset(ds, "graph/", am=pywfst.am.bundled_model_path())

Needs the ``ray`` extra (``pip install pywfst[ray]``); pywfst itself never imports Ray.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import ray

from .decoder import Decoder
from .graph import Graph
from .kaldi.archives import is_rspecifier
from .result import RECORD_FIELDS
from .utterances import Utterance, decode_utterances, read_emissions

EMISSIONS = "emissions"  # a row's [T, V] scores
AUDIO = "path"  # a row's WAV file, when the dataset is decoded through an acoustic model
ID = "id"
ERROR = "error"  # why a row could not be read or decoded (None when it was)
FRAME_SHIFT = "frame_shift"  # a row's seconds per frame, from its .npz file (None: the graph's)


def emissions_dataset(paths: Sequence[Union[str, Path]]) -> "ray.data.Dataset":
    """One row per utterance of .npy / .npz files or Kaldi tables (as ``pywfst decode`` reads
    them): ``id``, ``emissions``, ``frame_shift`` (the .npz file's entry, else NaN) and
    ``error`` (a file that cannot be read gives one row with the reason and empty scores). The
    files are read by Ray tasks, not by the driver; they reserve no CPU, so that decoding actors
    holding every CPU of the cluster cannot starve them."""
    files = [str(p) if is_rspecifier(str(p)) else str(Path(p).resolve()) for p in paths]
    return ray.data.from_items([{"file": f} for f in files]).flat_map(_file_rows, num_cpus=0)


def _file_rows(row: dict) -> Iterator[dict]:
    # Every row has values of one type per column (Arrow blocks of different files are joined):
    # no scores is an empty matrix, no frame shift NaN.
    for utterance in read_emissions([row["file"]]):
        scores = utterance.scores if utterance.error is None else np.zeros((0, 0), np.float32)
        shift = utterance.frame_shift if utterance.frame_shift is not None else float("nan")
        yield {ID: utterance.name, EMISSIONS: scores, FRAME_SHIFT: shift, ERROR: utterance.error}


def decode_dataset(ds: "ray.data.Dataset", graph: Union[Graph, str, Path], *,
                   am: Union[str, Path, None] = None, actors: Optional[int] = None,
                   cpus_per_actor: int = 1, batch_size: int = 16,
                   **decoder_arguments) -> "ray.data.Dataset":
    """Decodes every row of ``ds`` (lazily, as Ray Data does): from its ``emissions`` column, or,
    with ``am`` (a pywfst acoustic model file), from the WAV file of its ``path`` column.

    The result keeps the other columns (``id``...) and adds ``Result.to_dict()``'s (``text``,
    ``cost``, ``words`` with times...) and ``error``: None, or why the row could not be decoded
    (its other result columns are then empty); a bad row never stops the others.
    ``actors``: decoding actors (default: the cluster's CPUs / ``cpus_per_actor``), each with a
    Decoder of ``cpus_per_actor`` threads made from ``graph`` and ``decoder_arguments`` (any
    :class:`Decoder` argument: beam, max_active, log_priors...).
    """
    graph = graph if isinstance(graph, Graph) else Graph.load(graph)
    if "num_threads" in decoder_arguments:
        raise TypeError("num_threads: each actor's decoder has cpus_per_actor threads; pass "
                        "cpus_per_actor instead")
    Decoder(graph, **decoder_arguments)  # bad options fail here, not in every actor
    if actors is None:
        actors = max(1, math.floor(ray.cluster_resources().get("CPU", 1) / cpus_per_actor))
    return ds.map_batches(
        _DecodeBatch, fn_constructor_args=(graph, None if am is None else str(am),
                                           cpus_per_actor, decoder_arguments),
        batch_size=batch_size, batch_format="numpy", num_cpus=cpus_per_actor,
        compute=ray.data.ActorPoolStrategy(size=actors))


class _DecodeBatch:
    """A Ray Data actor: the graph and decoder made once, then one call per batch."""

    def __init__(self, graph: Graph, am: Optional[str], threads: int, decoder_arguments: dict):
        self.decoder = Decoder(graph, num_threads=threads, **decoder_arguments)
        self.file_frame_shift = "frame_shift" not in decoder_arguments
        self.model = None
        if am is not None:
            from .am import AcousticModel

            self.model = AcousticModel.load(am)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, list]:
        taken = sorted(set(batch) & set(RECORD_FIELDS))
        if taken:  # never overwrite a column of the user's (a reference "text", say)
            raise ValueError(f"the dataset's columns {taken} have the names of result columns; "
                             "rename them (e.g. ds.rename_columns)")
        utterances = self._utterances(batch)
        records: List[dict] = []
        errors: List[Optional[str]] = []
        for _, outcome in decode_utterances(self.decoder, utterances, len(utterances),
                                            self.file_frame_shift):
            errors.append(outcome if isinstance(outcome, str) else None)
            records.append({} if isinstance(outcome, str) else outcome.to_dict())
        kept = {k: list(v) for k, v in batch.items() if k not in (EMISSIONS, ERROR, FRAME_SHIFT)}
        return {**kept, **{k: [r.get(k) for r in records] for k in RECORD_FIELDS},
                ERROR: errors}

    def _utterances(self, batch: Dict[str, np.ndarray]) -> List[Utterance]:
        count = len(next(iter(batch.values())))
        names = [str(n) for n in batch[ID]] if ID in batch else [f"row {i}" for i in range(count)]
        # a column of None only comes back as NaN floats: an error is a string, a shift > 0
        read_errors = [e if isinstance(e, str) else None for e in batch.get(ERROR, [None] * count)]
        shifts = [float(f) if f is not None and f > 0 else None  # NaN: none
                  for f in batch.get(FRAME_SHIFT, [None] * count)]
        if self.model is None:
            if EMISSIONS not in batch:
                raise ValueError(f"the dataset has no {EMISSIONS!r} column (columns: "
                                 f"{sorted(batch)}); pass am= to decode WAV files of a "
                                 f"{AUDIO!r} column")
            return [Utterance(name, name, shift, scores, error) for name, scores, shift, error
                    in zip(names, batch[EMISSIONS], shifts, read_errors)]
        if AUDIO not in batch:
            raise ValueError(f"am= needs a {AUDIO!r} column of WAV files (columns: "
                             f"{sorted(batch)})")
        utterances = []
        for name, path in zip(names, batch[AUDIO]):
            try:
                utterances.append(Utterance(name, str(path), scores=self.model.emissions(path)))
            except (OSError, ValueError) as error:
                utterances.append(Utterance(name, str(path), error=f"{path}: {error}"))
        return utterances
