"""``pywfst tune``: the LM weight x word insertion penalty sweep (pywfst.tune) from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import List

import click

from ..graph import Graph
from ..tuning import DEFAULT_LM_WEIGHTS, DEFAULT_PENALTIES, SWEPT, read_references, tune
from .decode import N_BEST_AND_BOOST, read_emissions
from .errors import friendly_errors
from .search_flags import search_option_flags

EPILOG = """\b
Examples:
  pywfst tune --graph graph/ --dev dev.npz --refs dev_text --out settings.json
  pywfst tune --graph graph/ --dev dev.npz --refs dev_text --out s.json \\
      --lm-weights 0.5,1,1.5,2 --penalties -1,0,1 --beam 10 --threads 2
  pywfst decode --graph graph/ --settings settings.json test.npz
"""


def _numbers(ctx, param, text: str) -> List[float]:
    try:
        values = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}") from None
    if not values:
        raise click.BadParameter("expected at least one number")
    return values


@click.command("tune", epilog=EPILOG)
@click.option("--graph", "graph_dir", required=True, type=click.Path(file_okay=False),
              help="Graph directory.")
@click.option("--dev", "dev_files", required=True, multiple=True,
              type=click.Path(dir_okay=False),
              help="Dev emissions (.npz of utterances, or .npy); repeatable.")
@click.option("--refs", required=True, type=click.Path(dir_okay=False),
              help="Reference transcripts, Kaldi's text format: 'utt-id word word ...'.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Settings file to write (JSON), for decode --settings.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="WER surface PNG (needs matplotlib). Default: OUT with .png, when "
                   "matplotlib is installed.")
@click.option("--lm-weights", default=",".join(f"{v:g}" for v in DEFAULT_LM_WEIGHTS),
              show_default=True, callback=_numbers, help="lm_weight values to try.")
@click.option("--penalties", default=",".join(f"{v:g}" for v in DEFAULT_PENALTIES),
              show_default=True, callback=_numbers,
              help="word_insertion_penalty values to try.")
@search_option_flags(exclude=N_BEST_AND_BOOST + SWEPT)
@click.option("--log-softmax", is_flag=True, help="The arrays hold logits: normalise each frame.")
@click.option("--threads", type=int, default=0, show_default=True, help="0: all cores.")
def tune_command(graph_dir, dev_files, refs, out, plot, lm_weights, penalties, log_softmax,
                 threads, **search_options) -> None:
    """Sweep lm_weight x word_insertion_penalty on a dev set, print the WER table and write
    the best settings (ties go to the point nearest lm_weight 1, penalty 0)."""
    with friendly_errors():
        emissions = {}
        for utterance in read_emissions(list(dev_files)):
            if utterance.error is not None:
                raise ValueError(utterance.error)
            emissions[utterance.name] = utterance.scores
        result = tune(Graph.load(graph_dir), emissions, read_references(refs),
                      lm_weights=lm_weights, penalties=penalties, progress=True,
                      log_softmax=log_softmax, num_threads=threads, **search_options)
        click.echo(result.table())
        best = result.best
        click.echo(f"best: lm_weight {best.lm_weight:g}, word_insertion_penalty "
                   f"{best.word_insertion_penalty:g}: WER {best.wer:.2f} % "
                   f"({best.errors} errors / {best.reference_words} words, "
                   f"{result.utterances} utterances)")
        result.save(out, graph=str(graph_dir), dev=[str(f) for f in dev_files], refs=str(refs))
        click.echo(f"wrote {out}")
        if plot is None and _has_matplotlib():
            plot = out.with_suffix(".png")
        if plot is not None:
            result.plot(plot)
            click.echo(f"wrote {plot}")


def _has_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None
