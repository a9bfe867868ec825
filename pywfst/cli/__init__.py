"""The ``pywfst`` command: one click group, one module per verb."""

from __future__ import annotations

import click

from .build_graph import build_graph_command
from .decode import decode_command
from .demo import demo_command
from .info import info_command
from .tune import tune_command

EPILOG = """\b
Examples:
  pywfst build-graph --tokens tokens.txt --lexicon lexicon.txt --lm lm.arpa --out graph/
  pywfst build-graph --tokens chars.txt --spell --word-boundary '|' --lm lm.arpa.gz --out g/
  pywfst decode --graph graph/ --format ctm utterances.npz
  pywfst tune --graph graph/ --dev dev.npz --refs dev_text --out settings.json
  pywfst info graph/
  pywfst demo
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pywfst")
def cli() -> None:
    """pywfst: WFST decoding graphs and a fast native decoder for CTC and hybrid models."""


cli.add_command(build_graph_command)
cli.add_command(decode_command)
cli.add_command(info_command)
cli.add_command(demo_command)
cli.add_command(tune_command)


def main() -> None:
    cli()
