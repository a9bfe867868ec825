"""``pywfst decode``: decode emission files with a graph directory; text, JSON lines or CTM."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Iterator, List, Optional, Tuple

import click
import numpy as np

from ..class_slots import read_class_file
from ..confidence import ConfidenceCalibration
from ..decoder import Decoder
from ..graph import Graph
from ..result import Result
from ..utterances import READ_ERRORS, Utterance, decode_utterances, read_emissions
from .errors import friendly_errors
from .search_flags import search_option_flags, with_settings

BATCH_PER_THREAD = 4  # utterances read and decoded together, per thread
# Options of phrase boosting, which this command has not; and of n-best lists and lattices,
# which only give confidences and lattices here.
BOOST_ONLY = ("boost_nodes_per_state",)
N_BEST_AND_BOOST = ("nbest", "lattice", "lattice_beam", "lattice_max_states",
                    "lattice_max_arcs") + BOOST_ONLY

EPILOG = """\b
Examples:
  pywfst decode --graph graph/ utt1.npy utt2.npy
  pywfst decode --graph graph/ --format ctm --frame-shift 0.02 test_set.npz > hyp.ctm
  # go on past utterances that cannot be decoded (each is reported on stderr)
  pywfst decode --graph graph/ --skip-bad test_set.npz
  pywfst decode --graph graph/ --format json --beam 12 --threads 2 logits.npz --log-softmax
  # fill the graph's class slot DRUG (build-graph --class-slot DRUG) with a list of entries
  pywfst decode --graph graph/ --class DRUG=drugs.txt test_set.npz
  # word lattices (every path within the lattice beam) and confidences in the CTM
  pywfst decode --graph graph/ --lattice --lattices lat.txt --format ctm test_set.npz
  # a Kaldi hybrid system: HCLG.fst of transition-ids, posteriors from nnet3-compute
  pywfst decode --graph exp/tri4/graph --transition-model exp/tri4/final.mdl \
      --log-priors log_priors.npy --acoustic-scale 0.1 ark:posteriors.ark
"""


def format_result(utterance: str, result: Result, style: str,
                  confidences: Optional[List[float]] = None) -> str:
    """One utterance's output; with nbest > 1 or a lattice, CTM's sixth column and JSON's
    "confidence" hold each word's confidence (``confidences``, else Result.confidences)."""
    if style == "text":
        return f"{utterance} {result.text}".rstrip()
    confidences = confidences or result.confidences or [None] * len(result.words)
    if style == "ctm":
        return "\n".join(f"{utterance} 1 {start:.3f} {end - start:.3f} {word}"
                         + (f" {confidence:.3f}" if confidence is not None else "")
                         for word, (start, end), confidence
                         in zip(result.words, result.word_times, confidences))
    return json.dumps({"utterance": utterance, **result.to_dict(confidences)})


@click.command("decode", epilog=EPILOG)
@click.option("--graph", "graph_dir", required=True, type=click.Path(file_okay=False),
              help="Graph directory from build-graph (or any dir with HCLG.fst + words.txt).")
@click.argument("emissions", nargs=-1, required=True)
@click.option("--format", "style", type=click.Choice(["text", "json", "ctm"]), default="text",
              show_default=True, help="Output: 'utt words', JSON lines, or CTM.")
@search_option_flags(exclude=BOOST_ONLY)
@click.option("--lattices", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also write each utterance's word lattice to FILE in Kaldi's CompactLattice "
                   "text form: with --lattice every path within --lattice-beam, else the "
                   "n-best list's (give --nbest).")
@click.option("--mbr", is_flag=True,
              help="Print the minimum Bayes risk hypothesis of the n-best list (least expected "
                   "word errors) instead of the cheapest one; needs --nbest > 1.")
@click.option("--calibration", type=click.Path(dir_okay=False), metavar="FILE",
              help="Word confidences from a calibration file (pywfst.ConfidenceCalibration: "
                   "P(word right) learnt on a dev set) instead of posteriors; needs "
                   "--nbest > 1 or --lattice.")
@click.option("--settings", type=click.Path(dir_okay=False), metavar="FILE",
              help="Decoder options from a settings file (pywfst tune --out); flags given on "
                   "the command line win over it.")
@click.option("--log-softmax", is_flag=True, help="The arrays hold logits: normalise each frame.")
@click.option("--transition-model", type=click.Path(dir_okay=False), metavar="FILE",
              help="A Kaldi model file (final.mdl) whose transition model maps the graph's "
                   "transition-ids to pdf-ids: the emissions are then [T, num_pdfs] scores.")
@click.option("--log-priors", type=click.Path(dir_okay=False), metavar="FILE.npy",
              help="Per-column log-priors (a 1-d .npy) subtracted from the scores (hybrid "
                   "DNN-HMM posteriors).")
@click.option("--frame-shift", type=click.FloatRange(0.0, min_open=True), metavar="SECONDS",
              help="Seconds per frame, for word times. Default: the frame_shift entry of each "
                   ".npz file, else the graph's (build-graph --frame-shift), else 0.04.")
@click.option("--threads", type=int, default=0, show_default=True, help="0: all cores.")
@click.option("--allow-extra-columns", is_flag=True,
              help="Accept emissions with more columns than the graph's tokens.txt (the extra "
                   "columns are never read); otherwise another column count is an error.")
@click.option("--class", "classes", multiple=True, metavar="NAME=FILE",
              help="Fill class slot NAME with the entries of FILE (one per line, optional TAB "
                   "weight; or a jargon lexicon); repeatable.")
@click.option("--skip-bad", is_flag=True,
              help="Report an utterance that cannot be read or decoded on stderr and go on; the "
                   "exit status is 1 only if none could be decoded. Without it the first one "
                   "stops the run (exit status 1).")
def decode_command(graph_dir, emissions, style, log_softmax, transition_model, log_priors,
                   frame_shift, threads, allow_extra_columns, classes, skip_bad, settings,
                   lattices, mbr, calibration, **search_options) -> None:
    """Decode [T, V] emissions (.npy per utterance, .npz of many, or a Kaldi table such as
    ark:post.ark) and print the results."""
    with friendly_errors():
        if settings is not None:
            search_options = with_settings(search_options, settings)
        if log_priors is not None:
            log_priors = _read_log_priors(log_priors)
        if calibration is not None:
            calibration = ConfidenceCalibration.load(calibration)
        graph = Graph.load(graph_dir, transition_model=transition_model)
        # frame_shift None: each .npz file's own, else the graph's (Decoder's default)
        decoder = Decoder(graph, log_softmax=log_softmax, log_priors=log_priors,
                          frame_shift=frame_shift, num_threads=threads,
                          allow_extra_columns=allow_extra_columns, **search_options)
        if calibration is not None and not (decoder.options.nbest > 1 or decoder.options.lattice):
            raise click.BadParameter("needs alternatives: give --nbest (e.g. 20) or --lattice",
                                     param_hint="--calibration")
        if mbr and decoder.options.nbest < 2:
            raise click.BadParameter("needs an n-best list: give --nbest (e.g. 20)",
                                     param_hint="--mbr")
        for spec in classes:
            name, separator, path = spec.partition("=")
            if not separator or not name or not path:
                raise click.BadParameter(f"{spec!r}: expected NAME=FILE", param_hint="--class")
            entries, pronunciations = read_class_file(path)
            decoder.set_class(name, entries, pronunciations)
    batch_size = BATCH_PER_THREAD * (threads or os.cpu_count() or 1)
    decoded = failed = 0
    with contextlib.ExitStack() as stack:
        with friendly_errors():
            lattice_file = stack.enter_context(open(lattices, "w")) if lattices else None
        for utterance, outcome in _decode_all(decoder, emissions, batch_size, skip_bad,
                                              frame_shift):
            if outcome is None:
                failed += 1
                continue
            decoded += 1
            if mbr:
                outcome = outcome.mbr
            confidences = (calibration.confidences(outcome, utterance.scores)
                           if calibration is not None else None)
            line = format_result(utterance.name, outcome, style, confidences)
            if line:
                sys.stdout.write(line + "\n")
            if lattice_file is not None:
                outcome.lattice.write_kaldi(lattice_file, utterance.name)
    if failed:
        summary = f"decoded {decoded} utterances, skipped {failed}"
        if not decoded:  # as Kaldi's decoders: fail only when nothing could be decoded
            raise click.ClickException(f"{summary}: none could be decoded")
        click.echo(summary, err=True)


def _read_log_priors(path: str) -> np.ndarray:
    try:
        priors = np.load(path, allow_pickle=False)
    except READ_ERRORS as error:
        raise click.BadParameter(f"{path}: not a readable .npy file: {error}",
                                 param_hint="--log-priors") from None
    if not isinstance(priors, np.ndarray) or priors.ndim != 1:
        raise click.BadParameter(f"{path}: expected a 1-d array of log-priors",
                                 param_hint="--log-priors")
    return priors


def _decode_all(decoder: Decoder, emissions, batch_size: int, skip_bad: bool,
                frame_shift: Optional[float]) -> Iterator[Tuple[Utterance, Optional[Result]]]:
    """(utterance, result), or (utterance, None) for one skipped with its reason on stderr."""
    try:
        yield from _results(decoder, emissions, batch_size, skip_bad, frame_shift)
    except ImportError as error:  # a Kaldi table without kaldi-native-io installed
        raise click.ClickException(str(error)) from None


def _results(decoder: Decoder, emissions, batch_size: int, skip_bad: bool,
             frame_shift: Optional[float]) -> Iterator[Tuple[Utterance, Optional[Result]]]:
    for utterance, outcome in decode_utterances(decoder, read_emissions(list(emissions)),
                                                batch_size, file_frame_shift=frame_shift is None):
        if isinstance(outcome, str):
            if not skip_bad:
                raise click.ClickException(outcome)
            click.echo(f"skipped {outcome}", err=True)  # the message names the utterance
            yield utterance, None
            continue
        yield utterance, outcome
