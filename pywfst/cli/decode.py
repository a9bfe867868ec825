"""``pywfst decode``: decode emission files with a graph directory; text, JSON lines or CTM."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Iterator, List, Tuple

import click
import numpy as np

from ..class_slots import read_class_file
from ..decoder import Decoder
from ..graph import Graph
from ..result import Result
from .errors import friendly_errors

EPILOG = """\b
Examples:
  pywfst decode --graph graph/ utt1.npy utt2.npy
  pywfst decode --graph graph/ --format ctm --frame-shift 0.02 test_set.npz > hyp.ctm
  pywfst decode --graph graph/ --format json --beam 12 --threads 2 logits.npz --log-softmax
  # fill the graph's class slot DRUG (build-graph --class-slot DRUG) with a list of entries
  pywfst decode --graph graph/ --class DRUG=drugs.txt test_set.npz
"""


def read_emissions(paths: List[str]) -> Iterator[Tuple[str, str, np.ndarray]]:
    """(utterance id, where it came from, [T, V] array) from .npy files (id = file stem) or .npz
    files (id = key)."""
    for name in paths:
        path = Path(name)
        try:
            loaded = np.load(path, allow_pickle=False)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
            raise ValueError(f"{path}: not a readable .npy/.npz file: {error}") from None
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                for key in loaded.files:
                    yield key, f"{path}[{key}]", loaded[key]
        else:
            yield path.stem, str(path), loaded


def format_result(utterance: str, result: Result, style: str) -> str:
    if style == "text":
        return f"{utterance} {result.text}".rstrip()
    if style == "ctm":
        return "\n".join(f"{utterance} 1 {start:.3f} {end - start:.3f} {word}"
                         for word, (start, end) in zip(result.words, result.word_times))
    return json.dumps({
        "utterance": utterance, "text": result.text, "cost": result.cost,
        "acoustic_cost": result.acoustic_cost, "graph_cost": result.graph_cost,
        "reached_final": result.reached_final, "num_frames": result.num_frames,
        "words": [{"word": w, "start": round(s, 3), "end": round(e, 3)}
                  for w, (s, e) in zip(result.words, result.word_times)],
    })


@click.command("decode", epilog=EPILOG)
@click.option("--graph", "graph_dir", required=True, type=click.Path(file_okay=False),
              help="Graph directory from build-graph (or any dir with HCLG.fst + words.txt).")
@click.argument("emissions", nargs=-1, required=True)
@click.option("--format", "style", type=click.Choice(["text", "json", "ctm"]), default="text",
              show_default=True, help="Output: 'utt words', JSON lines, or CTM.")
@click.option("--beam", type=float, default=16.0, show_default=True)
@click.option("--max-active", type=int, default=7000, show_default=True)
@click.option("--min-active", type=int, default=200, show_default=True)
@click.option("--acoustic-scale", type=float, default=1.0, show_default=True)
@click.option("--log-softmax", is_flag=True, help="The arrays hold logits: normalise each frame.")
@click.option("--frame-shift", type=float, default=0.04, show_default=True,
              help="Seconds per frame, for word times.")
@click.option("--threads", type=int, default=0, show_default=True, help="0: all cores.")
@click.option("--class", "classes", multiple=True, metavar="NAME=FILE",
              help="Fill class slot NAME with the entries of FILE (one per line, optional TAB "
                   "weight; or a jargon lexicon); repeatable.")
def decode_command(graph_dir, emissions, style, beam, max_active, min_active, acoustic_scale,
                   log_softmax, frame_shift, threads, classes) -> None:
    """Decode [T, V] emissions (.npy per utterance or .npz of many) and print the results."""
    with friendly_errors():
        decoder = Decoder(Graph.load(graph_dir), beam=beam, max_active=max_active,
                          min_active=min_active, acoustic_scale=acoustic_scale,
                          log_softmax=log_softmax, frame_shift=frame_shift, num_threads=threads)
        for spec in classes:
            name, separator, path = spec.partition("=")
            if not separator or not name or not path:
                raise click.BadParameter(f"{spec!r}: expected NAME=FILE", param_hint="--class")
            entries, pronunciations = read_class_file(path)
            decoder.set_class(name, entries, pronunciations)
        names, sources, arrays = [], [], []
        for name, source, array in read_emissions(list(emissions)):
            names.append(name)
            sources.append(source)
            arrays.append(array)
        results = decoder.decode_batch(arrays, names=sources)
    for name, result in zip(names, results):
        line = format_result(name, result, style)
        if line:
            sys.stdout.write(line + "\n")
