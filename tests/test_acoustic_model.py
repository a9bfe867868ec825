"""The reference acoustic model's audio path: WAV reading, resampling, log-mel, numpy forward."""

import numpy as np
import pytest
from scipy.io import wavfile

from pywfst import InputFileError
from pywfst.am import AcousticModel, FeatureConfig, log_mel, read_wav, resample
from pywfst.am.features import hz_to_mel, num_frames
from pywfst.am.model import ModelShape, NumpyCtcModel, output_frames

SMALL = ModelShape(channels=16, num_blocks=2, block_kernel=5, num_tokens=5)
TOKENS = ["<blk>", "|", "a", "b", "c"]


def random_weights(shape: ModelShape, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    c = shape.channels
    weights = {"input.weight": rng.normal(0, 0.1, (shape.input_kernel * shape.num_mels, c)),
               "input.bias": rng.normal(0, 0.1, c),
               "output.weight": rng.normal(0, 0.1, (c, shape.num_tokens)),
               "output.bias": rng.normal(0, 0.1, shape.num_tokens)}
    for i in range(shape.num_blocks):
        weights[f"block{i}.depthwise.weight"] = rng.normal(0, 0.1, (shape.block_kernel, c))
        weights[f"block{i}.depthwise.bias"] = rng.normal(0, 0.1, c)
        weights[f"block{i}.pointwise.weight"] = rng.normal(0, 0.1, (c, c))
        weights[f"block{i}.pointwise.bias"] = rng.normal(0, 0.1, c)
    return {k: v.astype(np.float32) for k, v in weights.items()}


def test_wav_formats_are_scaled_to_unit_range(tmp_path):
    for dtype, full_scale in ((np.int16, 32767), (np.int32, 2**31 - 1)):
        path = tmp_path / f"{np.dtype(dtype).name}.wav"
        wavfile.write(path, 8000, np.array([0, full_scale, -full_scale], dtype=dtype))
        samples, rate = read_wav(path)
        assert rate == 8000 and samples.dtype == np.float32
        np.testing.assert_allclose(samples, [0, 1, -1], atol=1e-4)
    stereo = tmp_path / "stereo.wav"
    wavfile.write(stereo, 16000, np.array([[0.5, -0.5], [1.0, 0.0]], dtype=np.float32))
    np.testing.assert_allclose(read_wav(stereo)[0], [0.0, 0.5])


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00", b"not a wav file at all"])
def test_bad_wav_names_the_file(tmp_path, content):
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match="broken.wav"):
        read_wav(path)


def test_nan_audio_and_missing_rate_are_rejected(tmp_path):
    path = tmp_path / "nan.wav"
    wavfile.write(path, 16000, np.array([0.1, np.nan, 0.2], dtype=np.float32))
    with pytest.raises(InputFileError, match="NaN"):
        read_wav(path)
    model = AcousticModel(SMALL, random_weights(SMALL), TOKENS)
    with pytest.raises(ValueError, match="sample_rate"):
        model.emissions(np.zeros(16000, dtype=np.float32))
    with pytest.raises(ValueError, match="sample rate"):
        resample(np.zeros(10, dtype=np.float32), 0, 16000)


def test_resample_keeps_duration_and_tone():
    rate, seconds = 22050, 0.5
    t = np.arange(int(rate * seconds)) / rate
    out = resample(np.sin(2 * np.pi * 440 * t).astype(np.float32), rate, 16000)
    assert abs(len(out) - 8000) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * 16000 / len(out) - 440) < 5


def test_log_mel_frames_and_tone_bin():
    config = FeatureConfig()
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    tone[:8000] = 0.0  # silence, then the tone: the mean removal leaves the tone's bin on top
    features = log_mel(tone, config)
    assert features.shape == (num_frames(16000, config), 80) == (98, 80)
    np.testing.assert_allclose(features.mean(axis=0), 0, atol=1e-3)  # per-utterance mean removed
    peak = int(np.argmax(features[80]))
    edges = np.linspace(hz_to_mel(config.low_hz), hz_to_mel(config.high_hz), 82)
    assert edges[peak] < hz_to_mel(1000) < edges[peak + 2]
    assert log_mel(np.zeros(10, dtype=np.float32), config).shape == (1, 80)  # padded to 1 frame


def test_model_output_shape_and_log_probs():
    network = NumpyCtcModel(SMALL, random_weights(SMALL))
    for frames in (1, 2, 3, 4, 100):
        out = network.log_probs(np.random.default_rng(frames).normal(size=(frames, 80)))
        assert out.shape == (output_frames(frames, SMALL), 5)
        np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="features must be"):
        network.log_probs(np.zeros((10, 40)))
    broken = random_weights(SMALL)
    broken["block1.pointwise.weight"] = broken["block1.pointwise.weight"][:, :3]
    with pytest.raises(ValueError, match="block1.pointwise.weight"):
        NumpyCtcModel(SMALL, broken)


def test_numpy_forward_equals_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from pywfst.am.torch_model import ConvCtcModel, export_weights

    torch.manual_seed(0)
    model = ConvCtcModel(SMALL)
    with torch.no_grad():  # non-trivial batch-norm statistics to fold
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
    model.eval()
    features = np.random.default_rng(1).normal(size=(37, 80)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(features)[None])[0].numpy()
    saved = AcousticModel(SMALL, export_weights(model), TOKENS)
    saved.save(tmp_path / "m.npz")
    loaded = AcousticModel.load(tmp_path / "m.npz")
    np.testing.assert_allclose(loaded.network.log_probs(features), expected, atol=1e-4)


def test_training_goes_on_from_an_exported_model():
    """load_exported undoes export: the torch model computes the exported function in eval mode
    and, on the batch its norms were fitted to, in training mode too (dropout off)."""
    torch = pytest.importorskip("torch")
    from pywfst.am.torch_model import ConvCtcModel, export_weights, load_exported

    weights = random_weights(SMALL)
    features = np.random.default_rng(1).normal(size=(3, 41, 80)).astype(np.float32)
    model = ConvCtcModel(SMALL, dropout=0.0)
    load_exported(model, weights, torch.from_numpy(features))
    exported = NumpyCtcModel(SMALL, weights)
    expected = np.stack([exported.log_probs(f) for f in features])
    for name, array in export_weights(model).items():
        np.testing.assert_allclose(array, weights[name], atol=1e-5, err_msg=name)
    for mode in (model.eval, model.train):  # (a training-mode pass moves the running statistics)
        mode()
        with torch.no_grad():
            np.testing.assert_allclose(model(torch.from_numpy(features)).numpy(), expected,
                                       atol=1e-4)


def test_a_deepened_model_starts_as_the_model_and_learns_in_its_new_blocks():
    """deepen appends blocks that start (nearly) as the identity and still receive gradients."""
    torch = pytest.importorskip("torch")
    from pywfst.am.torch_model import ConvCtcModel, deepen

    torch.manual_seed(0)
    model = ConvCtcModel(SMALL, dropout=0.0)
    deeper = deepen(model, SMALL.num_blocks + 2)
    assert deeper.shape.num_blocks == SMALL.num_blocks + 2 and len(deeper.blocks) == 4
    features = torch.from_numpy(np.random.default_rng(1).normal(size=(2, 41, 80)).astype(np.float32))
    for mode in ("eval", "train"):
        for m in (model, deeper):
            getattr(m, mode)()
        with torch.no_grad():
            np.testing.assert_allclose(deeper(features).numpy(), model(features).numpy(),
                                       atol=1e-3)
    deeper(features).sum().backward()
    assert deeper.blocks[-1].pointwise_norm.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="fewer"):
        deepen(model, SMALL.num_blocks - 1)


def test_model_file_round_trip_and_errors(tmp_path):
    model = AcousticModel(SMALL, random_weights(SMALL), TOKENS, info={"note": "x"})
    model.save(tmp_path / "m.npz")
    loaded = AcousticModel.load(tmp_path / "m.npz")
    assert loaded.tokens == TOKENS and loaded.info == {"note": "x"}
    assert loaded.frame_shift == pytest.approx(0.03)
    audio = np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32)
    np.testing.assert_array_equal(loaded.emissions(audio, 8000), model.emissions(audio, 8000))
    assert loaded.write_tokens(tmp_path / "tokens.txt").read_text().splitlines()[1] == "| 1"
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(InputFileError, match="junk.npz"):
        AcousticModel.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "nometa.npz", x=np.zeros(2))
    with pytest.raises(InputFileError, match="meta"):
        AcousticModel.load(tmp_path / "nometa.npz")
    with pytest.raises(ValueError, match="4 tokens"):
        AcousticModel(SMALL, random_weights(SMALL), TOKENS[:4])


@pytest.mark.parametrize("hop, stride", [(160, 3), (160, 2), (80, 4)])
def test_frame_shift_is_the_time_between_emitted_frames(hop, stride):
    shape = ModelShape(channels=16, num_blocks=1, block_kernel=5, num_tokens=5, stride=stride)
    model = AcousticModel(shape, random_weights(shape), TOKENS, FeatureConfig(hop=hop))
    assert model.frame_shift == pytest.approx(hop * stride / 16000)
    seconds = 4.0
    audio = np.random.default_rng(0).normal(0, 0.1, int(seconds * 16000)).astype(np.float32)
    frames = len(model.emissions(audio, 16000))
    assert frames * model.frame_shift == pytest.approx(seconds, abs=2 * model.frame_shift)
