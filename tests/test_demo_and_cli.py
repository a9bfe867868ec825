"""The demo, the CLI's help, and the helpers they use."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import pywfst
from pywfst.cli import cli
from pywfst.cli.demo import bundled_utterances
from pywfst.metrics import edit_distance, error_rate
from pywfst.synthetic import greedy_ctc, greedy_text, simulate_ctc_emissions


def test_demo_transcribes_bundled_audio_better_than_greedy():
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    greedy_wer = float(last.split("greedy CTC ")[1].split(" %")[0])
    decoded_wer = float(last.split("pywfst ")[1].split(" %")[0])
    assert decoded_wer < 0.8 * greedy_wer
    assert result.output.count("REF ") == len(bundled_utterances()) >= 6
    assert ", 30 ms frames," in result.output  # the graph recorded the model's frame shift


def test_demo_on_a_users_wav(tmp_path):
    wav, reference = bundled_utterances()[0]
    copy = tmp_path / "mine.wav"
    copy.write_bytes(wav.read_bytes())
    result = CliRunner().invoke(cli, ["demo", str(copy)])
    assert result.exit_code == 0, result.output
    assert "mine.wav" in result.output and "REF" not in result.output
    assert result.output.count("PYWFST") == 1


def test_help_lists_verbs_with_examples():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for verb in ("build-graph", "info", "demo"):
        assert verb in result.output
        sub = CliRunner().invoke(cli, [verb, "--help"])
        assert sub.exit_code == 0 and "Examples:" in sub.output


def test_edit_distance_and_rates():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert error_rate([("a b c", "a x c"), ("d", "")]) == 50.0
    assert error_rate([("ab", "a b")], unit="char") == 0.0


def test_simulation_greedy_reading():
    rng = np.random.default_rng(0)
    tokens = [3, 3, 5, 1, 2]
    emissions = simulate_ctc_emissions(tokens, 8, rng, peak=8.0, noise=0.5)
    assert emissions.dtype == np.float32
    np.testing.assert_allclose(np.exp(emissions).sum(axis=1), 1.0, rtol=1e-5)
    assert greedy_ctc(emissions) == tokens


@pytest.fixture(scope="module")
def decode_setup(char_setup, tmp_path_factory):
    """A char graph built by the CLI with --frame-shift 0.05, and emissions of two sentences."""
    root = tmp_path_factory.mktemp("decode")
    built = CliRunner().invoke(cli, ["build-graph", "--tokens", str(char_setup["tokens"]),
                                     "--spell", "--word-boundary", "|", "--lm",
                                     str(char_setup["lm"]), "--frame-shift", "0.05", "--quiet",
                                     "--out", str(root / "g")])
    assert built.exit_code == 0, built.output
    graph = pywfst.Graph.load(root / "g")
    rng = np.random.default_rng(5)
    arrays = {}
    for index, sentence in enumerate(SENTENCES):
        tokens = [graph.tokens[c] for c in "|".join(sentence)]
        arrays[f"utt{index}"] = simulate_ctc_emissions(tokens, len(graph.tokens), rng)
    return graph, arrays


SENTENCES = [["the", "cat", "sat"], ["a", "dog", "ran", "away"]]


def test_decode_cli_formats_and_errors(decode_setup, tmp_path):
    graph, arrays = decode_setup
    sentences = SENTENCES
    np.savez(tmp_path / "set.npz", **arrays)
    np.save(tmp_path / "single.npy", arrays["utt0"])
    runner = CliRunner()
    base = ["decode", "--graph", str(graph.path)]
    text = runner.invoke(cli, base + [str(tmp_path / "set.npz"), str(tmp_path / "single.npy")])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines() == ["utt0 the cat sat", "utt1 a dog ran away", "single the cat sat"]
    lines = runner.invoke(cli, base + ["--format", "json", str(tmp_path / "set.npz")]).output.splitlines()
    first = json.loads(lines[0])
    assert first["text"] == "the cat sat" and [w["word"] for w in first["words"]] == sentences[0]
    assert all(w["start"] < w["end"] for w in first["words"])
    ctm = runner.invoke(cli, base + ["--format", "ctm", "--frame-shift", "0.02",
                                     str(tmp_path / "single.npy")]).output.splitlines()
    assert [line.split()[4] for line in ctm] == sentences[0]
    assert all(line.startswith("single 1 ") for line in ctm)
    bad = arrays["utt1"].copy()
    bad[2, 3] = np.nan
    np.savez(tmp_path / "bad.npz", ok=arrays["utt0"], broken=bad)
    failed = runner.invoke(cli, base + [str(tmp_path / "bad.npz")])
    assert failed.exit_code == 1
    assert "bad.npz[broken][2, 3] is nan" in failed.output
    (tmp_path / "junk.npz").write_text("not numpy")
    failed = runner.invoke(cli, base + [str(tmp_path / "junk.npz")])
    assert failed.exit_code == 1 and "junk.npz: not a readable .npy/.npz file" in failed.output


def test_decode_cli_frame_shift_from_flag_then_npz_then_graph(decode_setup, tmp_path):
    graph, arrays = decode_setup
    assert json.loads((graph.path / "graph.json").read_text())["frame_shift"] == 0.05
    spans = pywfst.Decoder(graph).decode(arrays["utt0"]).word_spans
    np.savez(tmp_path / "shifted.npz", frame_shift=0.02, utt0=arrays["utt0"])
    np.save(tmp_path / "utt0.npy", arrays["utt0"])

    def word_starts(*args):
        run = CliRunner().invoke(cli, ["decode", "--graph", str(graph.path), "--format", "json",
                                       *args])
        assert run.exit_code == 0, run.output
        return [[w["start"] for w in json.loads(line)["words"]] for line in run.stdout.splitlines()]

    def expected(shift):
        return [round(start * shift, 3) for start, _ in spans]

    # the .npz's own entry (not decoded as an utterance), then the graph's for the .npy
    assert word_starts(str(tmp_path / "shifted.npz"), str(tmp_path / "utt0.npy")) == [
        expected(0.02), expected(0.05)]
    assert word_starts("--frame-shift", "0.01", str(tmp_path / "shifted.npz"),
                       str(tmp_path / "utt0.npy")) == [expected(0.01), expected(0.01)]
    np.savez(tmp_path / "two.npz", frame_shift=[0.02, 0.03], utt0=arrays["utt0"])
    run = CliRunner().invoke(cli, ["decode", "--graph", str(graph.path), str(tmp_path / "two.npz")])
    assert run.exit_code == 1
    assert "two.npz[frame_shift]: expected the seconds per frame" in run.stderr


def test_build_graph_cli_refuses_a_bad_frame_shift(char_setup, tmp_path):
    base = ["build-graph", "--tokens", str(char_setup["tokens"]), "--lexicon",
            str(char_setup["lexicon"]), "--quiet", "--out", str(tmp_path / "g")]
    for value, status, message in (("0", 2, "--frame-shift"), ("inf", 1, "frame_shift: must be")):
        run = CliRunner().invoke(cli, base + ["--frame-shift", value])
        assert run.exit_code == status and message in run.stderr, run.output
    assert not (tmp_path / "g").exists()


def test_decode_cli_names_bad_utterances_and_skip_bad_goes_on(decode_setup, tmp_path):
    graph, arrays = decode_setup
    nan = arrays["utt1"].copy()
    nan[2, 3] = np.nan
    bad = {"ints": (arrays["utt0"] * 10).astype(np.int32), "narrow": arrays["utt0"][:, :5],
           "nan": nan, "objects": np.array([None, 1], dtype=object)}
    reasons = {"ints": "dtype", "narrow": "columns", "nan": "is nan", "objects": "allow_pickle"}
    runner = CliRunner()
    base = ["decode", "--graph", str(graph.path)]
    for key, array in bad.items():  # without --skip-bad: stops, naming file[key], no traceback
        np.savez(tmp_path / f"{key}.npz", ok=arrays["utt0"], **{key: array})
        run = runner.invoke(cli, base + [str(tmp_path / f"{key}.npz")])
        assert run.exit_code == 1 and isinstance(run.exception, SystemExit), run.output
        assert f"{key}.npz[{key}]" in run.stderr and reasons[key] in run.stderr, run.stderr
    # one batch (8 utterances with 2 threads) holding good and bad ones: the good ones survive
    np.savez(tmp_path / "mixed.npz", utt0=arrays["utt0"], **bad, utt1=arrays["utt1"])
    run = runner.invoke(cli, base + ["--skip-bad", "--threads", "2", str(tmp_path / "mixed.npz"),
                                     str(tmp_path / "missing.npy")])
    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines() == ["utt0 the cat sat", "utt1 a dog ran away"]
    skipped = [line for line in run.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 5 and skipped[4].startswith(f"skipped {tmp_path / 'missing.npy'}: ")
    for key, line in zip(bad, skipped):
        assert line.startswith(f"skipped {tmp_path / 'mixed.npz'}[{key}]") and reasons[key] in line
    assert run.stderr.splitlines()[-1] == "decoded 2 utterances, skipped 5"
    # as Kaldi's decoders: the exit status is 1 only when nothing could be decoded
    run = runner.invoke(cli, base + ["--skip-bad", str(tmp_path / "missing.npy")])
    assert run.exit_code == 1 and "decoded 0 utterances, skipped 1" in run.stderr


def test_greedy_text_reads_boundaries_as_spaces():
    tokens = ["<blk>", "|", "a", "b"]
    columns = [2, 2, 0, 2, 1, 1, 3, 0, 1]  # a a (blank) a | | b (blank) |
    emissions = np.full((len(columns), 4), -10.0, dtype=np.float32)
    emissions[np.arange(len(columns)), columns] = 0.0
    assert greedy_text(emissions, tokens) == "aa b"


def test_decode_cli_extra_columns_only_when_allowed(decode_setup, tmp_path):
    graph, arrays = decode_setup
    utterance = arrays["utt0"]
    wider = np.concatenate([utterance, np.full((len(utterance), 2), -30.0, np.float32)], axis=1)
    np.savez(tmp_path / "wide.npz", wide=wider)
    np.savez(tmp_path / "plain.npz", wide=utterance)
    base = ["decode", "--graph", str(graph.path)]
    refused = CliRunner().invoke(cli, base + [str(tmp_path / "wide.npz")])
    assert refused.exit_code == 1
    assert f"wide.npz[wide]: {wider.shape[1]} columns" in refused.stderr
    assert "allow_extra_columns" in refused.stderr
    allowed = CliRunner().invoke(cli, base + ["--allow-extra-columns", str(tmp_path / "wide.npz")])
    plain = CliRunner().invoke(cli, base + [str(tmp_path / "plain.npz")])
    assert allowed.exit_code == 0 and allowed.stdout == plain.stdout != ""
