"""``pywfst demo``: transcribe bundled WAVs end to end (audio -> reference AM -> graph -> decoder)."""

from __future__ import annotations

import tempfile
import time
from importlib import resources
from pathlib import Path

import click

from ..am import AcousticModel
from ..decoder import Decoder
from ..metrics import error_rate
from ..synthetic import greedy_text
from .errors import friendly_errors
from .search_flags import search_option_flags

EPILOG = """\b
Examples:
  pywfst demo
  pywfst demo --beam 10
  pywfst demo my_recording.wav other.wav
"""


def demo_data_dir() -> Path:
    return Path(str(resources.files("pywfst") / "data" / "demo"))


def bundled_utterances() -> list[tuple[Path, str]]:
    """(WAV path, reference text) of the bundled demo recordings."""
    data = demo_data_dir()
    rows = (line.split("\t") for line in (data / "utterances.tsv").read_text().splitlines())
    return [(data / "wav" / name, reference) for name, reference in rows]


@click.command("demo", epilog=EPILOG)
@click.argument("wavs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@search_option_flags(names=("beam",))
def demo_command(wavs, beam) -> None:
    """Transcribe the bundled recordings (or WAVS) with the reference acoustic model, a graph
    built from the bundled LM (char spellings of its words, optional '|'), and the decoder.

    For each recording it prints the reference (bundled ones only), the greedy CTC reading of
    the acoustic model and the decoded text; then the WERs of both.
    """
    with friendly_errors():
        _run_demo(wavs, beam)


def _run_demo(wavs, beam: float) -> None:
    from ..graph import build_graph  # the builder loads only for the verbs that build

    model = AcousticModel.load()
    utterances = [(path, None) for path in wavs] or bundled_utterances()
    # The recordings go through the acoustic model first, so that one that is not a usable WAV
    # is named before the graph's build.
    start = time.perf_counter()
    all_emissions = [model.emissions(path) for path, _ in utterances]
    am_seconds = time.perf_counter() - start
    data = demo_data_dir()
    with tempfile.TemporaryDirectory() as scratch:
        tokens = model.write_tokens(Path(scratch) / "tokens.txt")
        click.echo("Building the demo graph (spelling lexicon from the LM words, optional '|')...")
        graph = build_graph(tokens, Path(scratch) / "graph", spell=True, word_boundary="|",
                            lm=data / "lm.arpa.gz", frame_shift=model.frame_shift,
                            progress=False)
        hclg = graph.info["fst_counts"]["HCLG"]
        click.echo(f"  {graph.info['num_words']} words, HCLG {hclg['states']} states / "
                   f"{hclg['arcs']} arcs, {graph.info['frame_shift'] * 1000:g} ms frames, "
                   f"built in {graph.info['build']['total_seconds']:.1f} s\n")
        decoder = Decoder(graph, beam=beam, frame_shift=model.frame_shift)
        greedy_pairs, decoded_pairs = [], []
        decode_seconds = audio_seconds = 0.0
        for (path, reference), emissions in zip(utterances, all_emissions):
            start = time.perf_counter()
            result = decoder.decode(emissions)
            decode_seconds += time.perf_counter() - start
            audio_seconds += len(emissions) * model.frame_shift
            greedy = greedy_text(emissions, model.tokens)
            click.echo(f"{path.name}")
            if reference is not None:
                click.echo(f"  REF     {reference}")
                greedy_pairs.append((reference, greedy))
                decoded_pairs.append((reference, result.text))
            click.echo(f"  GREEDY  {greedy}\n  PYWFST  {result.text}\n")
    click.echo(f"{audio_seconds:.1f} s of audio: acoustic model {am_seconds:.2f} s, "
               f"decoder {decode_seconds:.3f} s")
    if decoded_pairs:
        click.echo(f"WER greedy CTC {error_rate(greedy_pairs):.1f} %, "
                   f"pywfst {error_rate(decoded_pairs):.1f} %")
