"""EmissionStream: the reference model's emissions computed as audio arrives. With the whole
utterance's feature mean they equal the offline emissions, for any chunking; with the mean of
the audio so far (the default) they stay close to them."""

import re

import numpy as np
import pytest

from pywfst.am import AcousticModel, read_wav, resample
from pywfst.am.features import frame_energies, num_frames, preemphasis
from pywfst.am.streaming import EmissionStream
from pywfst.cli.demo import bundled_utterances


@pytest.fixture(scope="module")
def model():
    return AcousticModel.load()


def samples_of(model, path):
    samples, rate = read_wav(path)
    return resample(samples, rate, model.features.sample_rate)


def utterance_mean(model, samples):
    emphasised = preemphasis(samples.astype(np.float32), model.features)
    energies = frame_energies(emphasised, 0, num_frames(len(emphasised), model.features),
                              model.features)
    return energies.mean(axis=0, keepdims=True)


def stream_all(stream, samples, sizes):
    pieces, start = [], 0
    for size in sizes:
        pieces.append(stream.accept(samples[start:start + size]))
        start += size
        if start >= len(samples):
            break
    pieces.append(stream.accept(samples[start:]))
    pieces.append(stream.finish())
    return pieces


@pytest.mark.parametrize("chunk", ["random", 160, 4800, 10**7])
def test_with_the_utterance_mean_the_stream_equals_offline(model, chunk):
    rng = np.random.default_rng(0)
    # A frame comes out once the audio it looks ahead at has arrived (3.4 s for the bundled model).
    look_ahead = model.network.context * model.frame_shift * model.features.sample_rate
    early = []
    for path, _ in bundled_utterances()[:3]:
        samples = samples_of(model, path)
        sizes = (rng.integers(1, 8000, size=len(samples)) if chunk == "random"
                 else [chunk] * (len(samples) // chunk + 1))
        pieces = stream_all(EmissionStream(model, utterance_mean(model, samples)), samples, sizes)
        offline = model.emissions(path)
        streamed = np.concatenate(pieces)
        assert streamed.shape == offline.shape
        np.testing.assert_allclose(streamed, offline, atol=2e-4)
        if chunk == 4800 and len(samples) > look_ahead + 2 * chunk:  # 300 ms chunks
            early.append(sum(len(p) for p in pieces[:-1]))
    if chunk == 4800:  # frames came out before finish() where the audio was long enough
        assert early and min(early) > 0


def test_running_mean_stays_close_and_short_audio_works(model):
    path = bundled_utterances()[0][0]
    samples = samples_of(model, path)
    streamed = np.concatenate(stream_all(EmissionStream(model), samples, [4800] * 100))
    offline = model.emissions(path)
    assert streamed.shape == offline.shape
    agree = np.mean(streamed.argmax(axis=1) == offline.argmax(axis=1))
    assert agree > 0.8, agree
    stream = EmissionStream(model)
    assert stream.accept(np.zeros(100, np.float32)).shape == (0, 29)
    assert stream.finish().shape == model.emissions(np.zeros(100, np.float32), 16000).shape
    with pytest.raises(ValueError, match="finished"):
        stream.accept(np.zeros(10, np.float32))


def test_demo_stream_prints_partials_and_the_streamed_result(model, tmp_path):
    """`pywfst demo --stream WAV`: partial lines as chunks arrive, then the final text, which is
    the decoding of the streamed emissions."""
    from click.testing import CliRunner

    import pywfst
    from pywfst.cli import cli
    from pywfst.cli.demo import demo_graph

    path = max((p for p, _ in bundled_utterances()), key=lambda p: p.stat().st_size)
    result = CliRunner().invoke(cli, ["demo", "--stream", "--chunk-ms", "500", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    partials = [line for line in lines if re.match(r"^ +\d+\.\d s  \S", line)]
    assert len(partials) >= 2, result.output
    samples = samples_of(model, path)
    stream = EmissionStream(model)
    emissions = np.concatenate(stream_all(stream, samples, [8000] * 1000))
    graph = demo_graph(model, tmp_path, rebuild=False)  # the cached one
    expected = pywfst.Decoder(graph, frame_shift=model.frame_shift).decode(emissions).text
    assert f"  FINAL   {expected}" in lines
    assert "chunks of 500 ms" in result.output


def test_short_audio_and_bounded_state(model):
    rng = np.random.default_rng(3)
    short = rng.normal(0, 0.1, 300).astype(np.float32)  # under one 400-sample window
    stream = EmissionStream(model, utterance_mean(model, np.pad(short, (0, 100))))
    streamed = np.concatenate([stream.accept(short), stream.finish()])
    np.testing.assert_allclose(streamed, model.emissions(short, 16000), atol=2e-4)
    with pytest.raises(ValueError, match="feature_mean: expected 80 values"):
        EmissionStream(model, np.zeros(3))
    # 45 s of audio in 300 ms chunks: the stream holds a bounded window of samples and features
    # (what the next frames read), not the whole past.
    stream = EmissionStream(model)
    held = []
    for _ in range(150):
        stream.accept(rng.normal(0, 0.1, 4800).astype(np.float32))
        held.append(len(stream._energies) + len(stream._samples) // 160)
    assert max(held[100:]) <= max(held[:40]) + 40 < 150 * 30
