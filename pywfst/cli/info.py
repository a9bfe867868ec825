"""``pywfst info DIR``: summarise a graph directory."""

from __future__ import annotations

import json

import click

from ..graph import Graph
from .errors import friendly_errors


@click.command("info", epilog="\b\nExamples:\n  pywfst info graph/\n  pywfst info --json graph/")
@click.argument("graph_dir", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print graph.json as it is.")
def info_command(graph_dir, as_json) -> None:
    """Print a summary of a graph directory built by build-graph."""
    from ..graph import summary_text  # in the builder's module, which loads only when used

    with friendly_errors():
        graph = Graph.load(graph_dir)
    if not graph.info:
        click.echo(f"graph {graph_dir}: {len(graph.words)} words (no graph.json: not built by pywfst)")
        return
    click.echo(json.dumps(graph.info, indent=2) if as_json else summary_text(graph.info, graph_dir))
