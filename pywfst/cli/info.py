"""``pywfst info DIR``: summarise a graph directory."""

from __future__ import annotations

import json

import click

from ..errors import InputFileError
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
            click.echo(f"graph {graph_dir}: {len(graph.words)} words (no graph.json: not built by "
                       "pywfst)")
            return
        if as_json:
            click.echo(json.dumps(graph.info, indent=2))
            return
        try:
            text = summary_text(graph.info, graph_dir)
        except (KeyError, IndexError, TypeError, AttributeError) as error:
            # A graph.json another tool wrote, or cut down: say what is known and what is not.
            click.echo(f"graph {graph_dir}: {len(graph.words)} words")
            missing = f"no {error.args[0]!r} field" if isinstance(error, KeyError) else \
                f"a field summary needs is malformed ({error})"
            raise InputFileError(graph.path / "graph.json", None,
                                 f"{missing}; pywfst info --json prints it as it is") from None
    click.echo(text)
