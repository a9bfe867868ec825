"""``pywfst demo``: build the bundled example graph and decode simulated emissions with it."""

from __future__ import annotations

import tempfile
import time
from importlib import resources
from pathlib import Path

import click
import numpy as np

from ..decoder import Decoder
from ..graph import build_graph
from ..metrics import error_rate
from ..synthetic import greedy_ctc, simulate_ctc_emissions

EPILOG = """\b
Examples:
  pywfst demo
  pywfst demo --confusion 0.3 --seed 7
"""


def demo_data_dir() -> Path:
    return Path(str(resources.files("pywfst") / "data" / "demo"))


@click.command("demo", epilog=EPILOG)
@click.option("--confusion", type=click.FloatRange(0.0, 1.0), default=0.1, show_default=True,
              help="Probability that a simulated token frame peaks on a wrong character.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the simulation.")
@click.option("--beam", type=float, default=16.0, show_default=True, help="Decoder beam.")
def demo_command(confusion, seed, beam) -> None:
    """Build a char-level graph from the bundled lexicon-free LM and decode held-out sentences.

    The emissions are simulated from the reference text with character confusions (no acoustic
    model is bundled yet), so the demo shows what the lexicon and LM correct over greedy CTC.
    """
    data = demo_data_dir()
    with tempfile.TemporaryDirectory() as scratch:
        click.echo("Building the demo graph (spelling lexicon from the LM words, optional '|')...")
        graph = build_graph(data / "tokens.txt", Path(scratch) / "graph", spell=True,
                            word_boundary="|", lm=data / "lm.arpa", progress=False)
        hclg = graph.info["fst_counts"]["HCLG"]
        click.echo(f"  {graph.info['num_words']} words, HCLG {hclg['states']} states / "
                   f"{hclg['arcs']} arcs, built in {graph.info['build']['total_seconds']:.2f} s\n")
        decoder = Decoder(graph, beam=beam)
        symbols = graph.tokens.to_symbol
        rng = np.random.default_rng(seed)
        greedy_pairs, decoded_pairs, seconds, frames = [], [], 0.0, 0
        for reference in (data / "utterances.txt").read_text(encoding="utf-8").splitlines():
            token_ids = [graph.tokens["|" if c == " " else c] for c in reference]
            emissions = simulate_ctc_emissions(token_ids, len(graph.tokens), rng,
                                               confusion=confusion)
            greedy = "".join(symbols[t] for t in greedy_ctc(emissions)).replace("|", " ")
            greedy = " ".join(greedy.split())
            start = time.perf_counter()
            result = decoder.decode(emissions)
            seconds += time.perf_counter() - start
            frames += emissions.shape[0]
            greedy_pairs.append((reference, greedy))
            decoded_pairs.append((reference, result.text))
            click.echo(f"REF     {reference}\nGREEDY  {greedy}\nPYWFST  {result.text}\n")
    click.echo(f"WER greedy CTC {error_rate(greedy_pairs):.1f} %, pywfst {error_rate(decoded_pairs):.1f} %"
               f"  ({frames} frames decoded in {1000 * seconds:.1f} ms)")
