"""``pywfst demo``: transcribe bundled WAVs end to end (audio -> reference AM -> graph -> decoder)."""

from __future__ import annotations

import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path

import click

from ..am import AcousticModel, read_wav, resample
from ..am.streaming import EmissionStream
from ..decoder import Decoder
from ..metrics import error_rate
from ..synthetic import greedy_text
from .errors import friendly_errors
from .search_flags import search_option_flags

EPILOG = """\b
Examples:
  pywfst demo
  pywfst demo --beam 10
  pywfst demo --rebuild        # build the cached demo graph again
  pywfst demo my_recording.wav other.wav
  pywfst demo --stream         # chunk by chunk, as live audio: partial results as they come
"""


# The demo graph: the demo LM's words spelled, '|' between words, mandatory except after the
# last word (benchmarks/demo_graph: lower WER than an optional '|' and faster with the reference
# AM, and every utterance still reaches a final state).
DEMO_GRAPH_OPTIONS = dict(spell=True, word_boundary="|", boundary_mandatory=True)


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
@click.option("--rebuild", is_flag=True,
              help="Build the demo graph again instead of loading it from the cache "
                   "($PYWFST_CACHE, else ~/.cache/pywfst).")
@click.option("--stream", is_flag=True,
              help="Feed each recording in chunks, as live audio, through the acoustic model "
                   "and the decoder's stream; print the partial results and the time per chunk.")
@click.option("--chunk-ms", type=click.IntRange(10, 60000), default=300, show_default=True,
              help="With --stream: milliseconds of audio per chunk.")
def demo_command(wavs, beam, rebuild, stream, chunk_ms) -> None:
    """Transcribe the bundled recordings (or WAVS) with the reference acoustic model, a graph
    built from the bundled LM (char spellings of its words, '|' between words), and the decoder.

    For each recording it prints the reference (bundled ones only), the greedy CTC reading of
    the acoustic model and the decoded text; then the WERs of both. With --stream, the partial
    results as the chunks arrive, the final text, and the time each chunk took.
    """
    with friendly_errors():
        _run_demo(wavs, beam, rebuild, chunk_ms if stream else None)


def demo_graph(model: AcousticModel, scratch: Path, rebuild: bool):
    """The demo graph: from the cache when it was built before for the same model tokens, LM
    and pywfst version; else built (17 s here) and cached. Without a writable cache directory
    it is built into ``scratch``."""
    from ..graph import build_graph  # the builder loads only for the verbs that build
    from ..graph.cache import cache_root, cached_graph

    tokens = model.write_tokens(scratch / "tokens.txt")
    lm = demo_data_dir() / "lm.arpa.gz"
    options = dict(DEMO_GRAPH_OPTIONS, frame_shift=model.frame_shift)

    def build(directory: Path):
        click.echo("Building the demo graph (spelling lexicon from the LM words, '|' between "
                   "words)...")
        return build_graph(tokens, directory, lm=lm, progress=False, **options)

    start = time.perf_counter()
    try:
        graph, cached = cached_graph("demo", [tokens, lm], options, build, rebuild)
    except OSError as error:
        click.echo(f"(no graph cache: {error})")
        graph, cached = build(scratch / "graph"), False
    hclg = graph.info["fst_counts"]["HCLG"]
    how = (f"loaded from the cache in {time.perf_counter() - start:.2f} s ({graph.path}; "
           "--rebuild builds it again)" if cached else
           f"built in {graph.info['build']['total_seconds']:.1f} s"
           + (f", cached in {cache_root()}" if graph.path.parent == cache_root() else ""))
    click.echo(f"  {graph.info['num_words']} words, HCLG {hclg['states']} states / "
               f"{hclg['arcs']} arcs, {graph.info['frame_shift'] * 1000:g} ms frames, {how}\n")
    return graph


def _run_demo(wavs, beam: float, rebuild: bool, chunk_ms) -> None:
    model = AcousticModel.load()
    if chunk_ms is not None:
        _run_stream_demo(model, wavs, beam, rebuild, chunk_ms)
        return
    utterances = [(path, None) for path in wavs] or bundled_utterances()
    # The recordings go through the acoustic model first, so that one that is not a usable WAV
    # is named before the graph's build.
    start = time.perf_counter()
    all_emissions = [model.emissions(path) for path, _ in utterances]
    am_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as scratch:
        graph = demo_graph(model, Path(scratch), rebuild)
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


def _run_stream_demo(model: AcousticModel, wavs, beam: float, rebuild: bool,
                     chunk_ms: int) -> None:
    """Each recording as live audio: chunks of ``chunk_ms`` through the model's EmissionStream
    and the decoder's stream; a partial result printed whenever it changes."""
    utterances = [(path, None) for path in wavs] or bundled_utterances()
    rate = model.features.sample_rate
    audio = []
    for path, reference in utterances:  # read them all first: a bad WAV is named before the build
        samples, sample_rate = read_wav(path)
        audio.append((path, reference, resample(samples, sample_rate, rate)))
    with tempfile.TemporaryDirectory() as scratch:
        decoder = Decoder(demo_graph(model, Path(scratch), rebuild), beam=beam,
                          frame_shift=model.frame_shift)
        chunk = rate * chunk_ms // 1000
        latencies, pairs = [], []
        for path, reference, samples in audio:
            click.echo(path.name)
            emissions, stream, shown = EmissionStream(model), decoder.stream(), ""
            for start in range(0, len(samples), chunk):
                started = time.perf_counter()
                stream.accept(emissions.accept(samples[start:start + chunk]))
                text = stream.partial().text
                latencies.append(time.perf_counter() - started)
                if text != shown:
                    click.echo(f"  {(start + chunk) / rate:5.1f} s  {text}")
                    shown = text
            stream.accept(emissions.finish())
            result = stream.finish()
            click.echo(f"  FINAL   {result.text}")
            if reference is not None:
                click.echo(f"  REF     {reference}")
                pairs.append((reference, result.text))
            click.echo("")
    ordered = sorted(latencies)
    click.echo(f"{len(latencies)} chunks of {chunk_ms} ms: acoustic model + decoder "
               f"{1000 * statistics.median(ordered):.1f} ms median, "
               f"{1000 * ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms p95 per chunk; the "
               f"model's look-ahead delays each frame by "
               f"{model.network.context * model.frame_shift:.1f} s")
    if pairs:
        click.echo(f"WER pywfst (streaming) {error_rate(pairs):.1f} %")
